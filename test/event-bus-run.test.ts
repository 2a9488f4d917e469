/**
 * The event bus on a real run (issue: app services, event bus): a subscriber in this process and
 * one in another process follow a scripted `loki run` that is killed with SIGKILL mid-run and then
 * resumed; both see the store's event log exactly, gap-free and in order, across the kill. A
 * subscriber that starts late replays from any sequence number.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus, type LokiEvent } from '../src/events/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import { prepareRun, startLoki } from './support/run-harness.ts';
import { ChildProcessRegistry, type SupervisedChild, waitForOutput } from './support/supervised-child.ts';

const FOLLOWER_SCRIPT = join(import.meta.dirname, 'support', 'event-follower.ts');
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 60_000;

const describeEvent = (event: Pick<LokiEvent, 'sequence' | 'type' | 'taskId'>) =>
  `${event.sequence} ${event.type} ${event.taskId ?? '-'}`;

function followerEvents(follower: SupervisedChild): string[] {
  return follower.lines
    .filter((line) => line.startsWith('event '))
    .map((line) => line.slice('event '.length));
}

describe('the event bus on a run killed with SIGKILL and resumed', () => {
  const children = new ChildProcessRegistry();

  it('shows a subscriber here and one in another process the same gap-free log as the store', async () => {
    try {
      await followKilledAndResumedRun();
    } finally {
      await children.killAll();
    }
  });

  async function followKilledAndResumedRun(): Promise<void> {
    using workspace = new TempWorkspace();
    const args = prepareRun(
      workspace,
      {
        tasks: Array.from({ length: 6 }, (_, index) => ({
          id: `task-${index + 1}`,
          files: { [`files/${index + 1}.txt`]: `${index + 1}\n` },
        })),
        verifyCommands: ['test -f files/6.txt'],
        latencyMilliseconds: 40,
      },
      2,
    );
    const databasePath = join(workspace.root, '.loki', 'loki.db');
    const first = startLoki(workspace, ['run', 'prd.md', ...args]);
    await first.waitForOutput(/▶ development/, WAIT_LIMIT_MILLISECONDS);

    await using store = await SqliteStore.open(databasePath);
    const stop = new AbortController();
    const here: LokiEvent[] = [];
    const hereEnded = (async () => {
      const bus = new EventBus(store, { pollIntervalMilliseconds: 25 });
      for await (const event of bus.subscribe({ signal: stop.signal })) here.push(event);
    })();
    const follower = children.start('follower', FOLLOWER_SCRIPT, [databasePath, '0', '25'], {
      stdin: 'pipe',
    });

    // Killed while agents work and merges happen: nothing of the run may be lost to a subscriber.
    await first.waitForOutput(/merged as/, WAIT_LIMIT_MILLISECONDS);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const resumed = await startLoki(workspace, ['resume']).done;
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);

    const stored = (await store.listEvents()).map(describeEvent);
    const lastSequence = stored.length;
    await waitForOutput([follower], () => followerEvents(follower).length >= lastSequence, {
      description: `the follower to reach sequence ${lastSequence}`,
      timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
    });
    follower.writeLine('stop');
    expect(await follower.exited, follower.describe()).toEqual({ code: 0, signal: null });
    const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
    while (here.length < lastSequence && Date.now() < deadline)
      await new Promise((done) => setTimeout(done, 20));
    stop.abort();
    await hereEnded;

    // One log, numbered 1..n, with both sessions in it: both subscribers saw exactly that.
    expect(stored.map((line) => Number(line.split(' ')[0]))).toEqual(
      Array.from({ length: lastSequence }, (_, index) => index + 1),
    );
    expect(stored.filter((line) => line.includes(' run.started '))).toHaveLength(2);
    expect(here.map(describeEvent)).toEqual(stored);
    expect(followerEvents(follower)).toEqual(stored);

    // A subscriber that starts late replays from any sequence number, here the middle of the log.
    const middle = Math.floor(lastSequence / 2);
    const late: string[] = [];
    const lateStop = new AbortController();
    for await (const event of new EventBus(store).subscribe({
      afterSequence: middle,
      signal: lateStop.signal,
    })) {
      late.push(describeEvent(event));
      if (event.sequence === lastSequence) lateStop.abort();
    }
    expect(late).toEqual(stored.slice(middle));
  }
});
