import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LokiEvent } from '../src/events/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { git, mergedTaskIds, prepareRun, readEvents, readJsonFile } from './support/run-harness.ts';

const write = (path: string, content: string) => ({
  toolCalls: [{ toolName: 'write_file', input: { path, content } }],
});
const complete = {
  toolCalls: [{ toolName: 'task_complete', input: { summary: 'done', files_changed: [], tests_run: [] } }],
};

/** A product whose tests fail: `sum` subtracts. No gate of main held it back (main had no tests). */
const PRODUCT = {
  'package.json': JSON.stringify({
    name: 'calc',
    private: true,
    type: 'module',
    scripts: { test: 'node --test' },
  }),
  'src/sum.js': 'export const sum = (a, b) => a - b;\n',
  'test/sum.test.js': [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { sum } from '../src/sum.js';",
    "test('REQ-001 sum adds two numbers', () => assert.equal(sum(2, 3), 5));",
    '',
  ].join('\n'),
};

function addTaskScripts(root: string, scripts: Record<string, unknown[]>): void {
  const sessionPath = join(root, 'session.json');
  const session = readJsonFile<{ tasks: Record<string, unknown> }>(sessionPath);
  Object.assign(session.tasks, scripts);
  writeFileSync(sessionPath, JSON.stringify(session));
}

function gateEvents(events: readonly LokiEvent[]) {
  return events.flatMap((event) => (event.type === 'gate.evaluated' ? [event.data] : []));
}

describe('quality gates in a run', () => {
  it('turns a failing unit-tests gate at QA into fix work for eng-qa, with the evidence in its prompt', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [{ id: 'calc', files: PRODUCT, verifyCommands: ['test -f src/sum.js'] }],
    });
    addTaskScripts(workspace.root, {
      'qa-fix-1': [write('src/sum.js', 'export const sum = (a, b) => a + b;\n'), complete],
    });

    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    expect(mergedTaskIds(workspace.root)).toEqual(['calc', 'qa-fix-1']);
    expect(git(workspace.root, ['show', 'main:src/sum.js']).trim()).toBe(
      'export const sum = (a, b) => a + b;',
    );

    const gates = gateEvents(readEvents(result.stdout));
    // On the merge the failure did not block: main had no tests to break.
    expect(gates).toContainEqual(
      expect.objectContaining({ stage: 'merge', gate: 'unit-tests', verdict: 'fail', blocks: false }),
    );
    expect(gates).toContainEqual(
      expect.objectContaining({ stage: 'qa', gate: 'unit-tests', verdict: 'fail', blocks: true }),
    );
    // After the fix, main passes it at QA and at Deployment.
    expect(
      gates.filter((gate) => gate.gate === 'unit-tests' && gate.verdict === 'pass').map((gate) => gate.stage),
    ).toEqual(expect.arrayContaining(['merge', 'qa', 'deployment']));

    const { task: fix } = JSON.parse(
      (await loki(workspace, ['queue', 'show', 'qa-fix-1', '--json'])).stdout,
    ) as {
      task: { type: string; description: string; payload: { verifyCommands: string[] } };
    };
    expect(fix.type).toBe('eng-qa');
    expect(fix.description).toContain('The unit-tests gate failed on main');
    expect(fix.description).toContain('tests: 0 passed, 1 failed (node:test)');
    expect(fix.description).toContain('REQ-001 sum adds two numbers');
    expect(fix.payload.verifyCommands).toContain('npm test');
  }, 120_000);

  it('refuses to start on an invalid gates.yaml, naming the key and the closest one (exit 2)', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: [{ id: 'one', files: { 'one.txt': '1\n' } }] });
    mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
    writeFileSync(join(workspace.root, '.loki', 'config', 'gates.yaml'), 'nonBlocking: [lnt]\n');
    const result = await loki(workspace, ['run', 'prd.md', ...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown gate "lnt". Did you mean "lint"?');
  }, 60_000);
});
