/**
 * The PostgreSQL store across processes (DESIGN.md §3), against a real server the test starts:
 * claimers in several processes never get the same task, idle ones wake on LISTEN/NOTIFY, and the
 * event log, tailed while several processes append from several connections each, reads in commit
 * order with no gap and no duplicate.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../src/events/index.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { NewTask } from '../src/store/index.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { ChildProcessRegistry, type SupervisedChild, waitForOutput } from './support/supervised-child.ts';

const SUPPORT_DIRECTORY = join(import.meta.dirname, 'support');
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 120_000;
const binaries = findPostgresBinaries();

function newTask(id: string, priority: number): NewTask {
  return {
    id,
    type: 'eng-backend',
    title: id,
    description: '',
    priority,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: null,
    timeoutSeconds: 60,
    maxAttempts: 3,
  };
}

describe.skipIf('missing' in binaries)(
  `PostgreSQL store across processes${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const children = new ChildProcessRegistry();
    const started = usePostgresServer(binaries);
    let database = '';

    beforeAll(async () => {
      database = new URL(await started().createDatabase('processes')).pathname.slice(1);
    }, 180_000);
    afterEach(async () => {
      await children.killAll();
    });

    async function startAll(processes: readonly SupervisedChild[]): Promise<void> {
      await waitForOutput(processes, () => processes.every((child) => child.lines.includes('ready')), {
        description: 'every process to print "ready"',
        timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
      });
      for (const child of processes) child.writeLine('go');
    }

    it('hands every task to exactly one of several claiming processes', async () => {
      const url = await started().createSchema(database);
      await using store = await PostgresStore.open(url);
      const count = 240;
      await store.insertTasks(
        Array.from({ length: count }, (_, index) => newTask(`t-${index}`, 1 + (index % 10))),
      );
      const claimers = [1, 2, 3, 4].map((number) =>
        children.start(
          `claimer-${number}`,
          join(SUPPORT_DIRECTORY, 'postgres-claimer.ts'),
          [url, `w${number}`, String(count)],
          {
            stdin: 'pipe',
          },
        ),
      );
      await startAll(claimers);
      for (const claimer of claimers) {
        expect(await claimer.exited, claimer.describe()).toEqual({ code: 0, signal: null });
      }
      const claimed = claimers.flatMap((claimer) =>
        claimer.lines
          .filter((line) => line.startsWith('claimed '))
          .map((line) => line.slice('claimed '.length)),
      );
      expect(claimed).toHaveLength(count);
      expect(new Set(claimed).size).toBe(count);
      const tasks = await store.listTasks();
      expect(tasks.every((task) => task.status === 'completed' && task.attemptCount === 1)).toBe(true);
      expect(await store.listEvents({ types: ['task.claimed'] })).toHaveLength(count);
    }, 240_000);

    it('wakes a listener on another connection when a transaction with events commits, and not on a rollback', async () => {
      const url = await started().createSchema(database);
      await using writer = await PostgresStore.open(url);
      await using listener = await PostgresStore.open(url);
      const heard: number[] = [];
      let wake = () => {};
      const stop = listener.onEventsCommitted((sequence) => {
        heard.push(sequence);
        wake();
      });
      try {
        // The LISTEN connection opens in the background: commit until it is heard (a deadline, no sleep).
        const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
        while (heard.length === 0) {
          if (Date.now() > deadline) throw new Error('no notification heard before the deadline');
          const woken = new Promise<void>((resolve) => {
            wake = resolve;
          });
          await writer.appendEvent({
            type: 'phase.entered',
            runId: 'run-1',
            taskId: null,
            data: { phase: 'qa' },
          });
          await Promise.race([woken, new Promise((resolve) => setTimeout(resolve, 200))]);
        }
        const before = heard.length;
        await writer.insertTasks([newTask('a', 5)]);
        await expect(writer.insertTasks([newTask('a', 5)])).rejects.toMatchObject({
          code: 'TASK_DUPLICATE_ID',
        });
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const last = await writer.appendEvent({
          type: 'phase.entered',
          runId: 'run-1',
          taskId: null,
          data: { phase: 'qa' },
        });
        await woken;
        // The refused duplicate notified nothing: the notifications after `before` are the insert's and the last append's.
        while (heard.at(-1) !== last.sequence) {
          const next = new Promise<void>((resolve) => {
            wake = resolve;
          });
          await next;
        }
        expect(heard.slice(before)).toEqual([last.sequence - 1, last.sequence]);
      } finally {
        stop();
      }
    });

    it('lets a tailer read the log in commit order with no gap and no duplicate while processes append concurrently', async () => {
      const url = await started().createSchema(database);
      await using store = await PostgresStore.open(url);
      const writers = [1, 2, 3].map((number) =>
        children.start(
          `writer-${number}`,
          join(SUPPORT_DIRECTORY, 'postgres-event-writer.ts'),
          [url, `w${number}`, '60'],
          {
            stdin: 'pipe',
          },
        ),
      );
      // 60 rounds each: 30 with one event, 30 with two and then a claim and a completion of one each.
      const total = writers.length * (30 + 30 * (2 + 1 + 1));
      const stopFollowing = new AbortController();
      const followed: number[] = [];
      const following = (async () => {
        const bus = new EventBus(store, { pollIntervalMilliseconds: 50 });
        for await (const event of bus.subscribe({ signal: stopFollowing.signal }))
          followed.push(event.sequence);
      })();
      await startAll(writers);
      // A raw tailer too: every read must start right after the last sequence it saw.
      const tailed: number[] = [];
      const gaps: string[] = [];
      const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
      // Until the writers are gone and a read finds nothing more: an event skipped over shows as a gap.
      for (;;) {
        if (Date.now() > deadline)
          throw new Error(`tailed ${tailed.length} of ${total} events before the deadline`);
        const haveWritersExited = writers.every((writer) => writer.hasExited);
        const last = tailed.at(-1) ?? 0;
        const batch = await store.listEvents({ afterSequence: last, limit: 25 });
        batch.forEach((event, index) => {
          if (event.sequence !== last + index + 1) gaps.push(`${last + index + 1} read as ${event.sequence}`);
        });
        tailed.push(...batch.map((event) => event.sequence));
        if (batch.length === 0 && haveWritersExited) break;
      }
      for (const writer of writers)
        expect(await writer.exited, writer.describe()).toEqual({ code: 0, signal: null });
      const expected = Array.from({ length: total }, (_, index) => index + 1);
      expect(gaps).toEqual([]);
      expect(tailed).toEqual(expected);
      expect((await store.listEvents()).map((event) => event.sequence)).toEqual(expected);
      const followDeadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
      while (followed.length < total && Date.now() < followDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      stopFollowing.abort();
      await following;
      expect(followed).toEqual(expected);
    }, 240_000);
  },
);
