import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSealedTests } from '../acceptance/index.ts';
import { systemClock } from '../clock/index.ts';
import { loadCircuitBreakerConfig, loadConfig } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import { ensureInitialCommit } from '../git/index.ts';
import { parseScriptedSession, type ScriptedSession } from '../providers/index.ts';
import { buildSandboxEnvironment, PlainRunner } from '../sandbox/index.ts';
import { initWorkspace, openWorkspace, type Workspace } from '../workspace/index.ts';
import { createAgentSource } from './agent-source.ts';
import { MergeQueue } from './merge-queue.ts';
import { MergedWorkIndex } from './merged-work.ts';
import { type TaskWorkerContext, type TaskWorkOutcome, workOnTask } from './task-worker.ts';

const TEST_FILE = 'test/todo.test.mjs';
const ACCEPTANCE_TESTS = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTodo } from '../src/todo.mjs';

test('REQ-001 adds a todo that is not done', () => {
  const todo = addTodo('milk');
  assert.equal(todo.title, 'milk');
  assert.equal(todo.done, false);
});

test('REQ-001 rejects an empty title', () => {
  assert.throws(() => addTodo(''));
});
`;
const HONEST_IMPLEMENTATION =
  "export function addTodo(title) {\n  if (!title) throw new Error('empty title');\n  return { title, done: false };\n}\n";

type ToolCall = { toolName: string; input: Record<string, unknown> };
const write = (path: string, content: string): ToolCall => ({
  toolName: 'write_file',
  input: { path, content },
});
const done: ToolCall = {
  toolName: 'task_complete',
  input: { summary: 'done', files_changed: [], tests_run: [] },
};

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('sealed acceptance tests', () => {
  let root: string;
  let workspace: Workspace;
  let events: NewEvent[];

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-sealed-'));
    await initWorkspace({ root, clock: systemClock });
    await ensureInitialCommit(root);
    workspace = await openWorkspace(root, { clock: systemClock });
    events = [];
  });
  afterEach(async () => {
    await workspace.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs one claim of `taskId` with the scripted agent rounds of every task in `tasks`. */
  async function work(
    taskId: string,
    tasks: Record<string, ToolCall[]>,
    configValues: Record<string, string> = {},
  ): Promise<TaskWorkOutcome> {
    const env = { PATH: process.env.PATH, HOME: root };
    const session: ScriptedSession = parseScriptedSession({
      discovery: [{ text: 'unused' }],
      architecture: [{ text: 'unused' }],
      tasks: Object.fromEntries(
        Object.entries(tasks).map(([id, calls]) => [id, calls.map((call) => ({ toolCalls: [call] }))]),
      ),
    });
    const runner = new PlainRunner();
    const mainBranch = git(root, ['symbolic-ref', '--short', 'HEAD']).trim();
    const mergeQueue = new MergeQueue({
      repositoryRoot: root,
      workDirectory: join(workspace.paths.lokiDirectory, 'worktrees'),
      commandRunner: runner,
      verifyEnvironment: buildSandboxEnvironment(env),
      mainBranch,
    });
    const context: TaskWorkerContext = {
      workspace,
      source: createAgentSource({
        provider: 'scripted',
        env,
        runner,
        logsDirectory: workspace.paths.logsDirectory,
        modelOverrides: {},
        scripted: { session, origin: 'inline session' },
      }),
      runner,
      verifyEnvironment: buildSandboxEnvironment(env),
      config: loadConfig({ workspaceRoot: root, env: {}, overrides: configValues }).values,
      breakerConfig: loadCircuitBreakerConfig(root),
      clock: systemClock,
      runId: 'run-1',
      mainBranch,
      mergeQueue,
      governor: null,
      merged: await MergedWorkIndex.load(root, mainBranch),
      emit: (event) => events.push(event),
      signal: new AbortController().signal,
      roundsPerAttempt: 1,
      maxSteps: 20,
      projectGates: () => Promise.resolve([]),
    };
    try {
      const task = await workspace.queue.claim({ workerId: 'worker', taskId });
      if (task === null) throw new Error(`task ${taskId} was not claimable`);
      return await workOnTask(task, 'worker', context);
    } finally {
      await mergeQueue.close();
    }
  }

  /** The QA task writes the acceptance tests of `add-todo`; the implementation task waits for it. */
  async function sealAcceptanceTests(): Promise<void> {
    await workspace.queue.enqueue({
      id: 'add-todo-acceptance',
      type: 'eng-qa',
      title: 'Acceptance tests for add-todo',
      runId: 'run-1',
      payload: { acceptanceFor: 'add-todo', requirementIds: ['REQ-001'] },
    });
    await workspace.queue.enqueue({
      id: 'add-todo',
      type: 'eng-backend',
      title: 'Add a todo',
      runId: 'run-1',
      dependencies: ['add-todo-acceptance'],
      payload: { verifyCommands: [`node --test ${TEST_FILE}`], requirementIds: ['REQ-001'] },
    });
    expect(
      await work('add-todo-acceptance', {
        'add-todo-acceptance': [write(TEST_FILE, ACCEPTANCE_TESTS), done],
      }),
    ).toBe('merged');
  }

  async function failureOf(taskId: string): Promise<string> {
    const task = await workspace.store.getTask(taskId);
    expect(task?.status).toBe('failed');
    return task?.lastError ?? '';
  }

  it('seals what the QA task wrote, hands it to the implementation task, and lets honest work merge', async () => {
    await sealAcceptanceTests();
    const sealed = await readSealedTests(workspace.store);
    expect([...sealed.values()]).toMatchObject([
      { path: TEST_FILE, content: ACCEPTANCE_TESTS, sealedBy: 'add-todo-acceptance', forTaskId: 'add-todo' },
    ]);
    // The red tests wait for the implementation: main does not have them yet.
    expect(() => git(root, ['show', `HEAD:${TEST_FILE}`])).toThrow();

    const outcome = await work('add-todo', {
      'add-todo': [write('src/todo.mjs', HONEST_IMPLEMENTATION), done],
    });

    expect(outcome).toBe('merged');
    expect(git(root, ['show', `HEAD:${TEST_FILE}`])).toBe(ACCEPTANCE_TESTS);
    expect(events.some((event) => event.type === 'acceptance.tampered')).toBe(false);
  }, 120_000);

  it('refuses acceptance tests that do not name the requirement', async () => {
    await workspace.queue.enqueue({
      id: 'qa',
      type: 'eng-qa',
      title: 'Acceptance tests',
      runId: 'run-1',
      payload: { acceptanceFor: 'add-todo', requirementIds: ['REQ-002'] },
    });
    expect(await work('qa', { qa: [write(TEST_FILE, ACCEPTANCE_TESTS), done] })).toBe('failed');
    expect(await failureOf('qa')).toMatch(/no test names requirement REQ-002/);
    expect((await readSealedTests(workspace.store)).size).toBe(0);
  }, 120_000);

  it.each([
    [
      'a deleted acceptance test',
      [{ toolName: 'run_command', input: { command: `rm ${TEST_FILE}` } }],
      /: deleted: the sealed test file was deleted/,
    ],
    [
      'a .skip',
      [write(TEST_FILE, ACCEPTANCE_TESTS.replace("test('REQ-001 rejects", "test.skip('REQ-001 rejects"))],
      /: skipped: line 11 adds \.skip/,
    ],
    [
      'a .only',
      [write(TEST_FILE, ACCEPTANCE_TESTS.replace("test('REQ-001 adds", "test.only('REQ-001 adds"))],
      /: focused: line 5 adds \.only/,
    ],
    [
      'an emptied test body',
      [write(TEST_FILE, ACCEPTANCE_TESTS.replace("  assert.throws(() => addTodo(''));\n", ''))],
      /: emptied: test "REQ-001 rejects an empty title" \(line 11\) has an empty body now; it held 1 assertion/,
    ],
    [
      'a removed assertion',
      [write(TEST_FILE, ACCEPTANCE_TESTS.replace('  assert.equal(todo.done, false);\n', ''))],
      /: assertion removed: test "REQ-001 adds a todo that is not done" \(line 5\) lost 1 assertion \(2 sealed, 1 now\)/,
    ],
  ])(
    'fails the task for %s, naming the file and the change',
    async (_case, tampering, reason) => {
      await sealAcceptanceTests();
      const rounds = [write('src/todo.mjs', HONEST_IMPLEMENTATION), ...tampering, done];

      expect(await work('add-todo', { 'add-todo': rounds })).toBe('failed');

      const error = await failureOf('add-todo');
      expect(error).toMatch(
        new RegExp(`^sealed acceptance tests were changed: ${TEST_FILE.replace('.', '\\.')}`),
      );
      expect(error).toMatch(reason);
      const tampered = events.find((event) => event.type === 'acceptance.tampered');
      expect(tampered?.taskId).toBe('add-todo');
      expect(tampered?.data).toMatchObject({ changes: [{ path: TEST_FILE }] });
      // Nothing of the tampered work reached main.
      expect(() => git(root, ['show', `HEAD:${TEST_FILE}`])).toThrow();
    },
    120_000,
  );

  it('lets a QA task change a sealed test, which re-seals it', async () => {
    await sealAcceptanceTests();
    expect(await work('add-todo', { 'add-todo': [write('src/todo.mjs', HONEST_IMPLEMENTATION), done] })).toBe(
      'merged',
    );
    const stricter = ACCEPTANCE_TESTS.replace(
      "  assert.throws(() => addTodo(''));\n",
      "  assert.throws(() => addTodo(''));\n  assert.throws(() => addTodo());\n",
    );
    await workspace.queue.enqueue({
      id: 'stricter-tests',
      type: 'eng-qa',
      title: 'Stricter acceptance tests',
      runId: 'run-1',
      payload: { verifyCommands: [`node --test ${TEST_FILE}`] },
    });
    await workspace.queue.enqueue({
      id: 'rename-todo',
      type: 'eng-backend',
      title: 'Touch the tests after the QA task',
      runId: 'run-1',
      dependencies: ['stricter-tests'],
      payload: { verifyCommands: [`node --test ${TEST_FILE}`] },
    });

    const qa = await work(
      'stricter-tests',
      { 'stricter-tests': [write(TEST_FILE, stricter), done] },
      {
        sealedAcceptanceTests: 'true',
      },
    );

    expect(qa).toBe('merged');
    expect((await readSealedTests(workspace.store)).get(TEST_FILE)).toMatchObject({
      content: stricter,
      sealedBy: 'stricter-tests',
    });
    // The next implementer is held to the re-sealed content: going back to the old tests is tampering.
    expect(await work('rename-todo', { 'rename-todo': [write(TEST_FILE, ACCEPTANCE_TESTS), done] })).toBe(
      'failed',
    );
    expect(await failureOf('rename-todo')).toMatch(
      /test\/todo\.test\.mjs: assertion removed: test "REQ-001 rejects an empty title"/,
    );
  }, 180_000);
});
