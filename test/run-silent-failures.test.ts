/**
 * Failures that used to pass in silence: a worker that lost its task's lease still merged it, and
 * an event or a task transition that could not be written was dropped. Each fault is real: a second
 * store connection takes the lease, a SQLite trigger refuses the write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import { anthropicFaults, startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { sessionRoute } from './support/anthropic-session.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import {
  mergedTaskIds,
  prepareRun,
  readEvents,
  type RunningLoki,
  startLoki,
  TEST_PRD,
} from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });
/** A loki process that runs longer than this is hung: it is killed so the test can report it. */
const HUNG_MILLISECONDS = 90_000;

async function endOf(run: RunningLoki) {
  const hung = setTimeout(() => run.child.kill('SIGKILL'), HUNG_MILLISECONDS);
  try {
    return await run.done;
  } finally {
    clearTimeout(hung);
  }
}

/** Adds a trigger to the workspace's store that refuses matching writes, as a full or broken disk would. */
function refuseWrites(root: string, trigger: string): void {
  const database = new DatabaseSync(join(root, '.loki', 'loki.db'));
  database.exec(trigger);
  database.close();
}

describe('failures are not silent', () => {
  it('a worker whose lease was taken over never merges the task', async () => {
    using workspace = new TempWorkspace('loki-lease-');
    // One worker, so the stolen task is the only one in progress when another worker takes it.
    const args = prepareRun(
      workspace,
      {
        tasks: [
          { id: 'stolen', files: files('stolen') },
          { id: 'after', files: files('after') },
        ],
        latencyMilliseconds: 1500,
      },
      1,
    );
    const run = startLoki(workspace, ['run', 'prd.md', ...args]);
    await run.waitForOutput(/stolen started \(attempt 1\)/, 60_000);
    // Another worker, two hours later by its clock: the lease has expired and the task is taken over.
    const later = new ManualClock(Date.now() + 2 * 3600 * 1000);
    await using other = await SqliteStore.open(join(workspace.root, '.loki', 'loki.db'), { clock: later });
    const taken = await other.claimTask({ workerId: 'other-worker', taskId: 'stolen' });
    expect(taken?.claimedBy).toBe('other-worker');
    // The first worker finishes its agent meanwhile; the next task runs once it has given up on this one.
    await run.waitForOutput(/after merged as/, 60_000);
    await other.completeTask('stolen', 'other-worker', { doneBy: 'other-worker' });
    const ended = await endOf(run);
    // Nothing failed, but the stolen task's work never reached main: its requirement is not proven.
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(3);
    expect(ended.stdout).toMatch(/PRD proven: 1\/2 \(50 %\)/);
    expect(ended.stdout).toContain('VERIFIED WITH GAPS; report: ');
    expect(mergedTaskIds(workspace.root)).toEqual(['after']);
    expect(ended.stdout).toMatch(/stolen: lost its lease/);
  }, 120_000);

  it('stops the run loudly when an event cannot be written', async () => {
    using workspace = new TempWorkspace('loki-events-');
    const args = prepareRun(workspace, { tasks: [{ id: 'one', files: files('one') }] }, 1);
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    refuseWrites(
      workspace.root,
      `CREATE TRIGGER refuse_tool_events BEFORE INSERT ON events WHEN NEW.type = 'agent.tool_called'
       BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END`,
    );
    const result = await loki(workspace, ['run', 'prd.md', ...args]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(
      /^loki: could not record event agent\.tool_called in the store at .*loki\.db: .*disk I\/O error \(injected\)/,
    );
    expect(mergedTaskIds(workspace.root)).toEqual([]);
  }, 60_000);

  it('stops the run loudly when a failed task cannot be recorded as failed', async () => {
    using workspace = new TempWorkspace('loki-fail-');
    const args = prepareRun(
      workspace,
      {
        tasks: [
          {
            id: 'broken',
            files: {},
            steps: [{ failure: { statusCode: 400, message: 'malformed request' } }],
          },
        ],
      },
      1,
    );
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    refuseWrites(
      workspace.root,
      `CREATE TRIGGER refuse_failures BEFORE UPDATE ON tasks WHEN NEW.status = 'failed'
       BEGIN SELECT RAISE(ABORT, 'read-only database (injected)'); END`,
    );
    const ended = await endOf(startLoki(workspace, ['run', 'prd.md', ...args]));
    expect(ended.signal, `hung:\n${ended.stdout}`).toBeNull();
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(1);
    expect(ended.stderr).toMatch(/broken.*could not be recorded as failed.*read-only database \(injected\)/);
  }, 120_000);

  it('an open breaker puts the tasks it refuses back to wait for its cooldown, counting no failure', async () => {
    using workspace = new TempWorkspace('loki-breaker-');
    const tasks = ['first', 'second', 'third'].map((id) => ({ id, files: files(id) }));
    let hasFailedOnce = false;
    await using server = await startFakeAnthropicServer({
      expectedApiKey: 'sk-ant-breaker-test',
      route: sessionRoute(tasks, {
        // One overload on the first task call opens the provider's breaker (threshold 1).
        fault: (_request, task) => {
          if (task === undefined || hasFailedOnce) return undefined;
          hasFailedOnce = true;
          return anthropicFaults.overloaded();
        },
      }),
    });
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
    mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
    writeFileSync(
      join(workspace.root, '.loki', 'config', 'circuit-breakers.yaml'),
      'overrides:\n  anthropic:\n    failureThreshold: 1\n    cooldownSeconds: 2\n    halfOpenRequests: 1\n',
    );
    // One attempt per task: a refusal counted as a failure would dead-letter the task at once.
    const result = await loki(
      workspace,
      // The session scripts the agents' calls only: blind review (tested on its own) is off.
      [
        '-c',
        'baseWait=1',
        '-c',
        'review.enabled=off',
        'run',
        'prd.md',
        '--provider',
        'anthropic',
        '--max-task-attempts',
        '1',
        '--json',
      ],
      { env: { ANTHROPIC_API_KEY: 'sk-ant-breaker-test', ANTHROPIC_BASE_URL: server.baseUrl } },
    );
    expect(result.exitCode, result.stdout.slice(-3000) + result.stderr).toBe(0);
    const events = readEvents(result.stdout);
    expect(
      events.filter((event) => event.type === 'task.failed' || event.type === 'task.dead_lettered'),
    ).toEqual([]);
    const waited = events.filter(
      (event) => event.type === 'task.released' && /circuit breaker/.test(event.data.reason),
    );
    expect(waited.length).toBeGreaterThan(0);
    expect([...mergedTaskIds(workspace.root)].sort()).toEqual(['first', 'second', 'third']);
  }, 120_000);
});
