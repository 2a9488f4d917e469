import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../clock/index.ts';
import { loadCircuitBreakerConfig, loadConfig } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import { ensureInitialCommit } from '../git/index.ts';
import { parseScriptedSession } from '../providers/index.ts';
import { buildSandboxEnvironment, PlainRunner } from '../sandbox/index.ts';
import { SqliteStore } from '../store/index.ts';
import { initWorkspace, openWorkspace, type Workspace } from '../workspace/index.ts';
import { createAgentSource } from './agent-source.ts';
import { MergeQueue } from './merge-queue.ts';
import { MergedWorkIndex } from './merged-work.ts';
import { type TaskWorkerContext, workOnTask } from './task-worker.ts';

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Polls (with a deadline, no fixed sleep) until `condition` holds. */
async function until(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await pause(20);
  }
}

describe('workOnTask', () => {
  let root: string;
  let workspace: Workspace;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-task-worker-'));
    await initWorkspace({ root, clock: systemClock });
    await ensureInitialCommit(root);
    workspace = await openWorkspace(root, { clock: systemClock });
  });
  afterEach(async () => {
    await workspace.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stops the agent when a heartbeat finds the lease taken, and never merges the task', async () => {
    const env = { PATH: process.env.PATH, HOME: root };
    // Each model answer takes 5 s, far longer than the 1.7 s between heartbeats of a 5 s lease.
    const session = parseScriptedSession({
      latencyMilliseconds: 5000,
      discovery: [{ text: 'unused' }],
      architecture: [{ text: 'unused' }],
      tasks: {
        slow: [
          { toolCalls: [{ toolName: 'write_file', input: { path: 'slow.txt', content: 'slow\n' } }] },
          {
            toolCalls: [
              { toolName: 'task_complete', input: { summary: 'done', files_changed: [], tests_run: [] } },
            ],
          },
        ],
      },
    });
    const runner = new PlainRunner();
    const source = createAgentSource({
      provider: 'scripted',
      env,
      runner,
      logsDirectory: workspace.paths.logsDirectory,
      modelOverrides: {},
      scripted: { session, origin: 'inline session' },
    });
    await workspace.queue.enqueue({
      id: 'slow',
      type: 'eng-backend',
      title: 'Write slow',
      runId: 'run-1',
      timeoutSeconds: 3,
      payload: { verifyCommands: ['test -f slow.txt'] },
    });
    const task = await workspace.queue.claim({ workerId: 'first-worker' });
    if (task === null) throw new Error('the task was not claimable');
    const mainBranch = git(root, ['symbolic-ref', '--short', 'HEAD']).trim();
    const mergeQueue = new MergeQueue({
      repositoryRoot: root,
      workDirectory: join(workspace.paths.lokiDirectory, 'worktrees'),
      commandRunner: runner,
      verifyEnvironment: buildSandboxEnvironment(env),
      mainBranch,
    });
    const events: NewEvent[] = [];
    const context: TaskWorkerContext = {
      workspace,
      source,
      runner,
      verifyEnvironment: buildSandboxEnvironment(env),
      config: { ...loadConfig({ workspaceRoot: root, env: {} }).values, leaseSeconds: 5 },
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
      maxSteps: 10,
      projectGates: () => Promise.resolve([]),
    };
    try {
      const work = workOnTask(task, 'first-worker', context);
      await until(() => events.some((event) => event.type === 'agent.started'), 'the agent to start');
      // Another worker, whose clock is an hour ahead, finds the lease expired and takes the task.
      await using other = await SqliteStore.open(workspace.paths.database, {
        clock: new ManualClock(Date.now() + 3600_000),
      });
      expect((await other.claimTask({ workerId: 'second-worker', taskId: 'slow' }))?.claimedBy).toBe(
        'second-worker',
      );

      expect(await work).toBe('abandoned');
      // The agent was stopped before it could finish, and the task was left to its new holder.
      expect(events.find((event) => event.type === 'agent.finished')?.data).toMatchObject({
        reason: 'aborted',
      });
      expect(
        events.some((event) => event.type === 'agent.tool_called' && event.data.toolName === 'task_complete'),
      ).toBe(false);
      expect(events.filter((event) => event.type === 'task.abandoned').map((event) => event.data)).toEqual([
        { workerId: 'first-worker', reason: expect.stringMatching(/^lost its lease/) },
      ]);
      expect(await workspace.store.getTask('slow')).toMatchObject({
        status: 'in_progress',
        claimedBy: 'second-worker',
      });
      expect(git(root, ['log', mainBranch, '--format=%(trailers:key=Loki-Task,valueonly)']).trim()).toBe('');
    } finally {
      await mergeQueue.close();
    }
  }, 60_000);
});
