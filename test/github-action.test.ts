import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';

/**
 * The Action's entry script run as GitHub's runner runs the composite step: the INPUT_* variables
 * action.yml maps, GITHUB_* paths pointing at files the runner would create, a small project
 * checked out in GITHUB_WORKSPACE.
 */
const ENTRY = join(REPOSITORY_ROOT, 'dist', 'action', 'main.js');
const API_KEY = 'sk-ant-api03-action-test-key-0123456789';

function checkout(workspace: TempWorkspace, testBody: string): string {
  const project = join(workspace.root, 'repo');
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'fixture', scripts: { test: 'node --test' } }),
  );
  writeFileSync(
    join(project, 'math.test.mjs'),
    `import test from 'node:test';\nimport assert from 'node:assert';\n${testBody}\n`,
  );
  return project;
}

function runAsGitHub(workspace: TempWorkspace, project: string, inputs: Record<string, string>) {
  const runnerTemp = join(workspace.root, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  const summary = join(runnerTemp, 'step-summary.md');
  const output = join(runnerTemp, 'output.txt');
  writeFileSync(summary, '');
  writeFileSync(output, '');
  const result = spawnSync(process.execPath, [ENTRY], {
    cwd: project,
    encoding: 'utf8',
    env: {
      ...workspace.env,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: project,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
      GITHUB_REPOSITORY: 'example/fixture',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      RUNNER_TEMP: runnerTemp,
      RUNNER_OS: 'Linux',
      INPUT_COMMAND: 'verify',
      INPUT_PRD: '',
      INPUT_WORKING_DIRECTORY: '.',
      INPUT_PROVIDER: '',
      INPUT_BUDGET: '',
      INPUT_GATES: '',
      INPUT_ANTHROPIC_API_KEY: API_KEY,
      INPUT_OPENAI_API_KEY: '',
      INPUT_OPENAI_BASE_URL: '',
      ...inputs,
    },
  });
  const outputs = Object.fromEntries(
    readFileSync(output, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return {
    ...result,
    summary: readFileSync(summary, 'utf8'),
    outputs,
    artifact: join(runnerTemp, 'loki-evidence'),
  };
}

describe('the GitHub Action', () => {
  it('action.yml runs the entry script with every input it declares', () => {
    const action = parse(readFileSync(join(REPOSITORY_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
      runs: { using: string; steps: { run?: string; env?: Record<string, string>; uses?: string }[] };
    };
    expect(action.runs.using).toBe('composite');
    const step = action.runs.steps.find((candidate) => candidate.run?.includes('dist/action/main.js'));
    const mapped = Object.keys(step?.env ?? {}).map((name) =>
      name.slice('INPUT_'.length).toLowerCase().replace(/_/g, '-'),
    );
    expect(mapped.sort()).toEqual(
      Object.keys(action.inputs)
        .filter((name) => name !== 'artifact-name')
        .sort(),
    );
    expect(
      action.runs.steps.some((candidate) => candidate.uses?.startsWith('actions/upload-artifact@')),
    ).toBe(true);
  });

  it('verifies the checked-out project, writes the job summary and outputs, and gathers the evidence', () => {
    using workspace = new TempWorkspace('loki-action-');
    const project = checkout(workspace, "test('REQ-001 adds', () => assert.equal(1 + 1, 2));");
    const result = runAsGitHub(workspace, project, { INPUT_GATES: 'unit-tests' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`::add-mask::${API_KEY}`);
    expect(result.outputs).toMatchObject({
      'exit-code': '0',
      headline: 'VERIFIED',
      'artifact-dir': result.artifact,
    });
    const evidence = readdirSync(result.artifact).sort();
    expect(evidence).toContain('loki-output.log');
    expect(evidence.some((name) => /^verify-.*\.json$/.test(name))).toBe(true);
    expect(evidence.some((name) => /^verify-.*\.md$/.test(name))).toBe(true);
    expect(result.outputs.report).toMatch(/loki-evidence\/verify-.*\.md$/);
    expect(result.summary).toContain('## Loki Mode: loki verify — VERIFIED (exit 0)');
    expect(result.summary).toContain('unit-tests');
    expect(result.summary).not.toContain(API_KEY);
  });

  it('fails the step with Loki’s exit code when the project is not verified, the evidence still gathered', () => {
    using workspace = new TempWorkspace('loki-action-');
    const project = checkout(workspace, "test('REQ-001 adds', () => assert.equal(1 + 1, 3));");
    const result = runAsGitHub(workspace, project, { INPUT_GATES: 'unit-tests' });
    expect(result.status).toBe(3);
    expect(result.outputs).toMatchObject({ 'exit-code': '3', headline: 'NOT VERIFIED' });
    expect(result.summary).toContain('## Loki Mode: loki verify — NOT VERIFIED (exit 3)');
    expect(readdirSync(result.artifact).some((name) => name.endsWith('.md'))).toBe(true);
  });

  it('refuses an invalid input with a GitHub error annotation', () => {
    using workspace = new TempWorkspace('loki-action-');
    const project = checkout(workspace, "test('REQ-001 adds', () => assert.equal(1 + 1, 2));");
    const run = runAsGitHub(workspace, project, { INPUT_COMMAND: 'run' });
    expect(run.status).toBe(2);
    expect(run.stdout).toContain(
      '::error title=Loki Mode::invalid action input prd: command run needs the path of the PRD',
    );
    const outside = runAsGitHub(workspace, project, { INPUT_WORKING_DIRECTORY: '../..' });
    expect(outside.status).toBe(2);
    expect(outside.stdout).toContain('working-directory: it must be inside the repository');
  });
});
