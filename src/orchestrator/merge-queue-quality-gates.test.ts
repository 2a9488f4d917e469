import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitOutput as git } from '../../test/support/git.ts';
import {
  buildSandboxEnvironment,
  type CommandRequest,
  type CommandResult,
  type CommandRunner,
  PlainRunner,
} from '../sandbox/index.ts';
import type { StageGateSettings } from './merge-gate-check.ts';
import { type GateEvaluation, MergeQueue, type MergeRequest } from './merge-queue.ts';

/** The project's own scripts: a linter that refuses TODO markers in src/, and node:test tests. */
const PACKAGE_JSON = JSON.stringify({
  name: 'fixture',
  private: true,
  scripts: { test: 'node --test', lint: '! grep -rn TODO src' },
});
const PASSING_TEST = [
  "import { test } from 'node:test';",
  "import assert from 'node:assert/strict';",
  "import { sum } from '../src/sum.js';",
  "test('adds', () => assert.equal(sum(1, 2), 3));",
  '',
].join('\n');
const CHEAP_GATES: StageGateSettings = {
  gates: ['unit-tests', 'lint', 'types', 'security'],
  nonBlocking: [],
  thresholds: {},
};

class CountingRunner implements CommandRunner {
  readonly kind = 'plain';
  readonly commands: string[] = [];
  readonly #inner = new PlainRunner();
  async run(request: CommandRequest): Promise<CommandResult> {
    this.commands.push(request.command);
    return this.#inner.run(request);
  }
}

describe('MergeQueue with quality gates', () => {
  let repository: string;
  let workDirectory: string;
  let evaluations: GateEvaluation[];

  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), 'loki-merge-quality-'));
    workDirectory = mkdtempSync(join(tmpdir(), 'loki-merge-quality-work-'));
    evaluations = [];
    git(repository, 'init', '--quiet', '--initial-branch=main');
    writeFiles(repository, {
      'package.json': PACKAGE_JSON,
      'src/sum.js': 'export const sum = (a, b) => a + b;\n',
      'test/sum.test.js': PASSING_TEST,
    });
    git(repository, 'add', '--all');
    git(repository, 'commit', '--quiet', '-m', 'initial');
  });
  afterEach(() => {
    rmSync(repository, { recursive: true, force: true });
    rmSync(workDirectory, { recursive: true, force: true });
  });

  function writeFiles(root: string, files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, name)), { recursive: true });
      writeFileSync(join(root, name), content);
    }
  }

  function createQueue(runner: CommandRunner = new PlainRunner(), projectGates: string[] = []): MergeQueue {
    return new MergeQueue({
      repositoryRoot: repository,
      workDirectory,
      commandRunner: runner,
      verifyEnvironment: buildSandboxEnvironment(process.env),
      verifyTimeoutMilliseconds: 60_000,
      projectGates: () => projectGates,
      mergeGates: () => CHEAP_GATES,
      onGateEvaluated: (evaluation) => evaluations.push(evaluation),
    });
  }

  function request(taskId: string, files: Record<string, string>): MergeRequest {
    const branch = `loki/${taskId}`;
    const path = join(workDirectory, `task-${taskId}`);
    git(repository, 'worktree', 'add', '--quiet', '-b', branch, path, 'main');
    writeFiles(path, files);
    git(path, 'add', '--all');
    git(path, 'commit', '--quiet', '-m', `work of ${taskId}`);
    git(repository, 'worktree', 'remove', '--force', path);
    return { taskId, agentType: 'eng-backend', title: `work on ${taskId}`, branch, verifyCommands: ['true'] };
  }

  function verdicts(taskId: string): Record<string, string> {
    return Object.fromEntries(
      evaluations
        .filter((evaluation) => evaluation.taskId === taskId)
        .map((evaluation) => [
          evaluation.result.gate,
          `${evaluation.result.verdict}${evaluation.blocks ? ' (blocks)' : ''}`,
        ]),
    );
  }

  it("refuses a merge that breaks a gate main passes, with the gate's evidence; not-proven never blocks", async () => {
    await using queue = createQueue();
    const mainBefore = git(repository, 'rev-parse', 'main');
    const result = await queue.merge(request('todo', { 'src/todo.js': '// TODO: later\n' }));
    expect(result).toMatchObject({
      outcome: 'verification_failed',
      command: 'npm run lint',
      gate: { name: 'lint', hasCommand: true },
    });
    if (result.outcome !== 'verification_failed') throw new Error('unreachable');
    expect(result.outputTail).toContain('The lint gate failed on the merge result, and it passes on main');
    expect(result.outputTail).toContain('src/todo.js:1:// TODO: later');
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);
    expect(verdicts('todo')).toMatchObject({ 'unit-tests': 'pass', lint: 'fail (blocks)', security: 'pass' });

    // tsconfig.json without TypeScript installed: the type check is not proven, and that lets it land.
    const merged = await queue.merge(request('tsconfig', { 'tsconfig.json': '{}\n' }));
    expect(merged.outcome).toBe('merged');
    expect(verdicts('tsconfig')).toMatchObject({ types: 'not-proven', lint: 'pass' });
  });

  it('lets a merge through when main already fails the gate (the ratchet), and holds a broken test against it', async () => {
    await using queue = createQueue();
    git(repository, 'checkout', '--quiet', '-b', 'seed');
    writeFiles(repository, { 'src/old.js': '// TODO: from before\n' });
    git(repository, 'add', '--all');
    git(repository, 'commit', '--quiet', '-m', 'main already fails lint');
    git(repository, 'checkout', '--quiet', 'main');
    git(repository, 'merge', '--quiet', '--ff-only', 'seed');

    const more = await queue.merge(request('more-todo', { 'src/more.js': '// TODO: also later\n' }));
    expect(more.outcome).toBe('merged');
    expect(verdicts('more-todo')).toMatchObject({ lint: 'fail' });

    const broken = await queue.merge(
      request('breaks-sum', { 'src/sum.js': 'export const sum = (a, b) => a - b;\n' }),
    );
    expect(broken).toMatchObject({ outcome: 'verification_failed', gate: { name: 'unit-tests' } });
    if (broken.outcome !== 'verification_failed') throw new Error('unreachable');
    expect(broken.outputTail).toContain('tests: 0 passed, 1 failed (node:test)');
  });

  it("runs the project's tests once per merge when its verify command is the test script", async () => {
    const runner = new CountingRunner();
    await using queue = createQueue(runner, ['node --test']);
    const result = await queue.merge(request('feature', { 'src/feature.js': 'export const f = 1;\n' }));
    expect(result.outcome).toBe('merged');
    expect(runner.commands.filter((command) => command === 'npm test')).toHaveLength(1);
    expect(runner.commands.filter((command) => command.includes('node --test'))).toEqual([]);
  });
});
