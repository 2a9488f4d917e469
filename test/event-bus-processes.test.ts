/**
 * The event bus across processes (DESIGN.md §3): a subscriber in this process and one in another
 * process must see the same events, gap-free and in order, while other processes write, including
 * when a writer is killed with SIGKILL mid-stream and another carries on; a subscriber that starts
 * late replays from any sequence number.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type LokiEvent } from '../src/events/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import { ChildProcessRegistry, type SupervisedChild, waitForOutput } from './support/supervised-child.ts';

const SUPPORT_DIRECTORY = join(import.meta.dirname, 'support');
const WRITER_SCRIPT = join(SUPPORT_DIRECTORY, 'event-writer.ts');
const FOLLOWER_SCRIPT = join(SUPPORT_DIRECTORY, 'event-follower.ts');
/** Short, so that the follower process (which hears no in-process notification) keeps up quickly. */
const POLL_INTERVAL_MILLISECONDS = 25;
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 30_000;

/** What a subscriber saw, reduced to what both kinds can report: sequence, type and task. */
function describeEvent(event: Pick<LokiEvent, 'sequence' | 'type' | 'taskId'>): string {
  return `${event.sequence} ${event.type} ${event.taskId ?? '-'}`;
}

function followerEvents(follower: SupervisedChild): string[] {
  return follower.lines
    .filter((line) => line.startsWith('event '))
    .map((line) => line.slice('event '.length));
}

function lastFollowedSequence(follower: SupervisedChild): number {
  const last = followerEvents(follower).at(-1);
  return last === undefined ? 0 : Number(last.split(' ', 1)[0]);
}

function committedSequences(writer: SupervisedChild): number[] {
  return writer.lines
    .filter((line) => line.startsWith('committed '))
    .map((line) => Number(line.split(' ')[1]));
}

/**
 * An in-process subscription, collected in the background. Declared with `await using` after the
 * store, it is stopped before the store closes even when the test fails midway, so its loop never
 * reads a closed store.
 */
function followInProcess(store: SqliteStore): {
  events: LokiEvent[];
  stop: () => Promise<void>;
  [Symbol.asyncDispose]: () => Promise<void>;
} {
  const events: LokiEvent[] = [];
  const controller = new AbortController();
  const bus = new EventBus(store, { pollIntervalMilliseconds: POLL_INTERVAL_MILLISECONDS });
  const ended = (async () => {
    for await (const event of bus.subscribe({ signal: controller.signal })) events.push(event);
  })();
  const stop = async (): Promise<void> => {
    controller.abort();
    await ended;
  };
  return { events, stop, [Symbol.asyncDispose]: stop };
}

/** Polls a condition on this process's own state with a deadline (the children are watched by line). */
async function waitUntil(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`while waiting for ${description}: deadline passed`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function expectGapFree(sequences: readonly number[], from = 0): void {
  expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, index) => from + index + 1));
}

describe('EventBus across processes', () => {
  const children = new ChildProcessRegistry();
  let directory: string;
  let databasePath: string;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'loki-event-bus-processes-'));
    databasePath = join(directory, 'loki.db');
    // Created (and migrated) once, before the processes race to open it.
    await (await SqliteStore.open(databasePath)).close();
  });

  afterEach(async () => {
    await children.killAll();
    rmSync(directory, { recursive: true, force: true });
  });

  function startFollower(name: string, afterSequence: number): SupervisedChild {
    return children.start(
      name,
      FOLLOWER_SCRIPT,
      [databasePath, String(afterSequence), String(POLL_INTERVAL_MILLISECONDS)],
      { stdin: 'pipe' },
    );
  }

  function startWriter(name: string, transactions: number): SupervisedChild {
    return children.start(name, WRITER_SCRIPT, [databasePath, name, String(transactions)], { stdin: 'pipe' });
  }

  /** Waits until the follower has printed `lastSequence`, stops it, and checks it ended by itself. */
  async function stopFollowerAt(follower: SupervisedChild, lastSequence: number): Promise<string[]> {
    await waitForOutput([follower], () => lastFollowedSequence(follower) >= lastSequence, {
      description: `${follower.name} to reach sequence ${lastSequence}`,
      timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
    });
    follower.writeLine('stop');
    expect(await follower.exited, follower.describe()).toEqual({ code: 0, signal: null });
    expect(follower.lines.at(-1)).toBe('stopped');
    return followerEvents(follower);
  }

  it('shows a subscriber here and one in another process the same gap-free sequence while processes and async writers append', async () => {
    await using store = await SqliteStore.open(databasePath);
    await using here = followInProcess(store);
    const follower = startFollower('follower', 0);
    const writers = [1, 2, 3].map((number) => startWriter(`writer-${number}`, 40));
    await waitForOutput(
      [...writers, follower],
      () => [...writers, follower].every((child) => child.lines.includes('ready')),
      {
        description: 'every process to print "ready"',
        timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
      },
    );
    for (const writer of writers) writer.writeLine('go');
    // Writers in this process too, interleaved with the others.
    await Promise.all(
      ['here-1', 'here-2'].map(async (name) => {
        for (let number = 1; number <= 20; number += 1) {
          await store.appendEvent({
            type: 'agent.text',
            runId: null,
            taskId: name,
            data: { text: `${number}` },
          });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    for (const writer of writers)
      expect(await writer.exited, writer.describe()).toEqual({ code: 0, signal: null });

    const stored = await store.listEvents();
    const lastSequence = stored.at(-1)?.sequence ?? 0;
    // 3 writers × (20 single events + 20 batches of two) + 2 × 20 here.
    expect(stored).toHaveLength(3 * 60 + 40);
    expectGapFree(stored.map((event) => event.sequence));

    const followed = await stopFollowerAt(follower, lastSequence);
    await waitUntil(
      () => (here.events.at(-1)?.sequence ?? 0) >= lastSequence,
      'the subscriber here to catch up',
    );
    await here.stop();
    expect(here.events).toEqual(stored);
    expect(followed).toEqual(stored.map(describeEvent));
  });

  it('stays gap-free for subscribers across a kill -9 of a writer and a new writer carrying on, and replays late from any sequence', async () => {
    await using store = await SqliteStore.open(databasePath);
    await using here = followInProcess(store);
    const follower = startFollower('follower', 0);
    const doomed = startWriter('doomed', 0);
    await waitForOutput(
      [doomed, follower],
      () => doomed.lines.includes('ready') && follower.lines.includes('ready'),
      {
        description: 'the writer and the follower to be ready',
        timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
      },
    );
    doomed.writeLine('go');
    // Killed at a different point on every run, and while the follower is reading along.
    const killAfter = 20 + Math.floor(Math.random() * 40);
    await waitForOutput(
      [doomed, follower],
      () => doomed.countLines('committed') >= killAfter && lastFollowedSequence(follower) > 0,
      {
        description: `the writer to commit ${killAfter} transactions`,
        timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
      },
    );
    expect((await doomed.kill()).signal).toBe('SIGKILL');

    const successor = startWriter('successor', 30);
    await waitForOutput([successor], () => successor.lines.includes('ready'), {
      description: 'the new writer to be ready',
      timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
    });
    successor.writeLine('go');
    expect(await successor.exited, successor.describe()).toEqual({ code: 0, signal: null });

    const stored = await store.listEvents();
    const lastSequence = stored.at(-1)?.sequence ?? 0;
    expectGapFree(stored.map((event) => event.sequence));
    // Everything the killed writer reported committed survived it.
    const storedSequences = new Set(stored.map((event) => event.sequence));
    for (const sequence of committedSequences(doomed)) expect(storedSequences.has(sequence)).toBe(true);
    expect(stored.filter((event) => event.runId === 'run-successor')).toHaveLength(15 + 2 * 15);

    const followed = await stopFollowerAt(follower, lastSequence);
    await waitUntil(
      () => (here.events.at(-1)?.sequence ?? 0) >= lastSequence,
      'the subscriber here to catch up',
    );
    await here.stop();
    expect(here.events).toEqual(stored);
    expect(followed).toEqual(stored.map(describeEvent));

    // Late subscribers in another process, from the start, from the middle, and from the last.
    for (const afterSequence of [0, Math.floor(lastSequence / 2), lastSequence - 1]) {
      const late = startFollower(`late-from-${afterSequence}`, afterSequence);
      const replayed = await stopFollowerAt(late, lastSequence);
      expect(replayed).toEqual(stored.filter((event) => event.sequence > afterSequence).map(describeEvent));
    }
  });
});
