import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { StatusReport } from '../src/workspace/index.ts';
import { loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { gateReached, gatedTask, nextEvent, openGate } from './support/gated-task.ts';
import { mergedTaskIds, prepareRun, type RunningLoki, startLoki } from './support/run-harness.ts';
import { type StoredEvent, StoreEventFollower } from './support/store-events.ts';

const plainTask = (id: string) => ({ id, files: { [`files/${id}.txt`]: `content of ${id}\n` } });

/** Every event of the workspace's store, in order, read once the run has ended. */
function storedEvents(root: string): StoredEvent[] {
  const database = new DatabaseSync(join(root, '.loki', 'loki.db'), { readOnly: true });
  try {
    return database
      .prepare('SELECT sequence, type, task_id, data FROM events ORDER BY sequence')
      .all()
      .map((row) => ({
        sequence: Number(row.sequence),
        type: String(row.type),
        taskId: row.task_id === null ? null : String(row.task_id),
        data: JSON.parse(String(row.data)) as Record<string, unknown>,
      }));
  } finally {
    database.close();
  }
}

function sequenceOf(events: readonly StoredEvent[], type: string): number {
  const found = events.find((event) => event.type === type);
  if (found === undefined) throw new Error(`no ${type} event in ${events.map((e) => e.type).join(', ')}`);
  return found.sequence;
}

function claimedIds(events: readonly StoredEvent[], from = 0, to = Number.POSITIVE_INFINITY): string[] {
  return events
    .filter((event) => event.type === 'task.claimed' && event.sequence > from && event.sequence < to)
    .map((event) => event.taskId ?? '');
}

/** A live `loki` process that is killed when the test ends, whatever happened (a gated agent never ends by itself). */
function startLive(workspace: TempWorkspace, args: readonly string[]): RunningLoki {
  const live = startLoki(workspace, args);
  onTestFinished(() => {
    if (live.child.exitCode === null && live.child.signalCode === null) live.child.kill('SIGKILL');
  });
  return live;
}

function statusOf(workspace: TempWorkspace): StatusReport {
  return parseJsonOutput<StatusReport>(lokiProcess(workspace, ['status', '--json']));
}

describe('steering when nothing runs', () => {
  it('stop says so and succeeds; pause and continue say what to do instead', async () => {
    using workspace = new TempWorkspace();
    const stop = await loki(workspace, ['stop', '--json']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(parseJsonOutput(stop)).toEqual({ stopped: false, runId: null, status: null, reason: 'no_run' });
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    expect((await loki(workspace, ['stop'])).stdout).toBe('No run is active in this workspace.\n');
    for (const command of ['pause', 'continue']) {
      const refused = await loki(workspace, [command]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toBe(
        `loki: this workspace has no run to ${command}; start one with loki run <prd>\n`,
      );
    }
  });
});

describe('steering a live run from another process', () => {
  it('pauses it: the agent at work finishes, no task is claimed, loki status says paused; continue lets it complete', async () => {
    using workspace = new TempWorkspace();
    using follower = new StoreEventFollower(workspace.root);
    const args = prepareRun(
      workspace,
      { tasks: [gatedTask('hold'), plainTask('next-1'), plainTask('next-2')] },
      1,
    );
    const holdAtGate = gateReached(follower, 'hold');
    const run = startLive(workspace, ['run', 'prd.md', ...args]);
    await holdAtGate;

    const pause = lokiProcess(workspace, ['pause']);
    expect(pause.exitCode, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/Paused run run-\S+: no new task starts/);
    await run.waitForOutput(/⏸ paused/);
    expect(statusOf(workspace).run?.status).toBe('paused');
    expect(lokiProcess(workspace, ['status']).stdout).toMatch(/Run: +run-\S+ \(paused\)/);
    // Pausing a paused run changes nothing.
    const again = parseJsonOutput(lokiProcess(workspace, ['pause', '--json']));
    expect(again).toMatchObject({ action: 'pause', isChanged: false });

    // The agent at work finishes its task while paused; the free slot is not used.
    const holdDone = nextEvent(
      follower,
      'hold completed',
      (event) => event.type === 'task.completed' && event.taskId === 'hold',
    );
    await openGate(workspace.root, 'hold');
    await holdDone;
    const whilePaused = statusOf(workspace);
    expect(whilePaused.run?.status).toBe('paused');
    expect(whilePaused.queue).toMatchObject({ pending: 2, inProgress: 0, completed: 1 });

    const resume = lokiProcess(workspace, ['continue']);
    expect(resume.exitCode, resume.stderr).toBe(0);
    expect(resume.stdout).toMatch(/Continued run run-\S+/);
    const ended = await run.done;
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/▶ continued/);
    expect(mergedTaskIds(workspace.root).sort()).toEqual(['hold', 'next-1', 'next-2']);

    const events = storedEvents(workspace.root);
    const paused = sequenceOf(events, 'run.paused');
    const continued = sequenceOf(events, 'run.continued');
    expect(events.find((event) => event.type === 'run.paused')?.data).toEqual({ requestedBy: 'cli' });
    // Nothing was claimed while paused, though a slot was free and two tasks were ready.
    expect(claimedIds(events, paused, continued)).toEqual([]);
    expect(
      events.some((e) => e.type === 'task.completed' && e.sequence > paused && e.sequence < continued),
    ).toBe(true);
    expect(claimedIds(events, continued).sort()).toEqual(['next-1', 'next-2']);
    expect(events.filter((event) => event.type === 'run.paused')).toHaveLength(1);
  }, 120_000);

  it('stops it on loki stop: exit 130, its task back in the queue, and loki resume completes it', async () => {
    using workspace = new TempWorkspace();
    using follower = new StoreEventFollower(workspace.root);
    const args = prepareRun(workspace, { tasks: [gatedTask('hold'), plainTask('later')] }, 1);
    const holdAtGate = gateReached(follower, 'hold');
    const run = startLive(workspace, ['run', 'prd.md', ...args]);
    await holdAtGate;

    const stop = lokiProcess(workspace, ['stop', '--json']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(parseJsonOutput(stop)).toMatchObject({ stopped: true, status: 'stopped' });
    const ended = await run.done;
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(130);
    expect(ended.stdout).toContain('Stopping');
    expect(ended.stdout).toMatch(/stop requested/);

    const events = storedEvents(workspace.root);
    expect(events.find((event) => event.type === 'run.stop_requested')?.data).toEqual({ requestedBy: 'cli' });
    expect(events.some((event) => event.type === 'task.released' && event.taskId === 'hold')).toBe(true);
    const stopped = statusOf(workspace);
    expect(stopped.run?.status).toBe('stopped');
    expect(stopped.queue).toMatchObject({ pending: 2, inProgress: 0 });
    expect(mergedTaskIds(workspace.root)).toEqual([]);
    // Stopping a run that is not live changes nothing and says so.
    const noRun = lokiProcess(workspace, ['stop']);
    expect(noRun.exitCode).toBe(0);
    expect(noRun.stdout).toContain('No run is active');

    const holdAtGateAgain = gateReached(follower, 'hold');
    const resumed = startLive(workspace, ['resume', ...args]);
    await holdAtGateAgain;
    await openGate(workspace.root, 'hold');
    const finished = await resumed.done;
    expect(finished.exitCode, finished.stdout + finished.stderr).toBe(0);
    expect(mergedTaskIds(workspace.root).sort()).toEqual(['hold', 'later']);
  }, 120_000);

  it('takes Ctrl-C in its own terminal as the same stop request, recorded as made by a signal', async () => {
    using workspace = new TempWorkspace();
    using follower = new StoreEventFollower(workspace.root);
    const args = prepareRun(workspace, { tasks: [gatedTask('hold'), plainTask('later')] }, 1);
    const holdAtGate = gateReached(follower, 'hold');
    const run = startLive(workspace, ['run', 'prd.md', ...args]);
    await holdAtGate;
    run.child.kill('SIGINT');
    const ended = await run.done;
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(130);
    expect(ended.stdout).toContain('Stopping');
    expect(ended.stdout).not.toMatch(/stop requested/);
    const events = storedEvents(workspace.root);
    const requests = events.filter((event) => event.type === 'run.stop_requested');
    expect(requests.map((event) => event.data)).toEqual([{ requestedBy: 'signal' }]);
    // Recorded before what it causes.
    const released = events.find((event) => event.type === 'task.released' && event.taskId === 'hold');
    expect(requests[0]?.sequence).toBeLessThan(released?.sequence ?? 0);
  }, 90_000);

  it('stops a paused run, and a later session starts neither paused nor stopping', async () => {
    using workspace = new TempWorkspace();
    using follower = new StoreEventFollower(workspace.root);
    const args = prepareRun(workspace, { tasks: [gatedTask('hold'), plainTask('later')] }, 1);
    const holdAtGate = gateReached(follower, 'hold');
    const run = startLive(workspace, ['run', 'prd.md', ...args]);
    await holdAtGate;
    expect(lokiProcess(workspace, ['pause']).exitCode).toBe(0);
    // A run killed while paused leaves its pause behind; the next session clears it.
    run.child.kill('SIGKILL');
    await run.done;
    expect(statusOf(workspace).run?.status).toBe('interrupted');
    const refused = lokiProcess(workspace, ['continue']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/process is gone.*loki resume/);

    const holdAtGateAgain = gateReached(follower, 'hold');
    const second = startLive(workspace, ['resume', ...args]);
    await holdAtGateAgain;
    expect(statusOf(workspace).run?.status).toBe('running');
    expect(lokiProcess(workspace, ['pause']).exitCode).toBe(0);
    const stop = lokiProcess(workspace, ['stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/Run run-\S+ stopped/);
    expect((await second.done).exitCode).toBe(130);

    const holdAtGateLast = gateReached(follower, 'hold');
    const third = startLive(workspace, ['resume', ...args]);
    await holdAtGateLast;
    await openGate(workspace.root, 'hold');
    const finished = await third.done;
    expect(finished.exitCode, finished.stdout + finished.stderr).toBe(0);
    expect(mergedTaskIds(workspace.root).sort()).toEqual(['hold', 'later']);
  }, 150_000);

  it('takes queue changes made while it goes: cancel, re-prioritise and retry', async () => {
    using workspace = new TempWorkspace();
    using follower = new StoreEventFollower(workspace.root);
    const args = prepareRun(
      workspace,
      {
        tasks: [
          // Fails until hold's work is on main: dead-lettered at once (one attempt), then retried.
          { ...plainTask('doomed'), verifyCommands: ['test -f files/hold.txt'] },
          gatedTask('hold'),
          plainTask('first'),
          plainTask('victim'),
          gatedTask('last'),
        ],
      },
      1,
    );
    const doomedDead = nextEvent(
      follower,
      'doomed dead-lettered',
      (e) => e.type === 'task.dead_lettered' && e.taskId === 'doomed',
    );
    const holdAtGate = gateReached(follower, 'hold');
    const run = startLive(workspace, ['run', 'prd.md', ...args, '--max-task-attempts', '1']);
    await Promise.all([doomedDead, holdAtGate]);

    // While hold holds the only agent slot: victim (pending) is cancelled, last jumps ahead of first.
    const cancel = lokiProcess(workspace, ['queue', 'cancel', 'victim']);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    const prioritize = lokiProcess(workspace, ['queue', 'prioritize', 'last', '9']);
    expect(prioritize.exitCode, prioritize.stderr).toBe(0);
    const holdMerged = nextEvent(
      follower,
      'hold merged',
      (e) => e.type === 'merge.completed' && e.taskId === 'hold',
    );
    const lastAtGate = gateReached(follower, 'last');
    await openGate(workspace.root, 'hold');
    await Promise.all([holdMerged, lastAtGate]);

    // hold's work is on main now: the dead-lettered task is retried while the run still goes.
    const retry = lokiProcess(workspace, ['queue', 'retry', 'doomed']);
    expect(retry.exitCode, retry.stderr).toBe(0);
    await openGate(workspace.root, 'last');

    const ended = await run.done;
    // Completed except for the cancelled task: not verified (exit 3).
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(3);
    const events = storedEvents(workspace.root);
    expect(claimedIds(events)).toEqual(['doomed', 'hold', 'last', 'doomed', 'first']);
    const claims = events.filter((event) => event.type === 'task.claimed');
    const runWorkers = new Set(claims.map((event) => String(event.data.workerId).replace(/:w\d+$/, '')));
    expect(runWorkers.size).toBe(1);
    expect(sequenceOf(events, 'task.retried')).toBeLessThan(claims[3]?.sequence ?? 0);
    expect(mergedTaskIds(workspace.root).sort()).toEqual(['doomed', 'first', 'hold', 'last']);
  }, 150_000);
});
