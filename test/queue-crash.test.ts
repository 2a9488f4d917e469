/**
 * kill -9 in the middle of queue traffic: the SQLite file must open cleanly, hold every batch that
 * was reported committed (and no partial batch), agree with its own event trail, and let a fresh
 * worker finish everything once the dead worker's leases expire.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock/index.ts';
import { TaskQueue } from '../src/queue/index.ts';
import { SqliteStore, type Task } from '../src/store/index.ts';
import { batchNumberOf, batchSize, isHeldTask } from './support/crash-protocol.ts';
import { findEventTrailProblems, groupEventsByTask } from './support/event-trail.ts';
import { ChildProcessRegistry, type SupervisedChild, waitForOutput } from './support/supervised-child.ts';

const SUPPORT_DIRECTORY = join(import.meta.dirname, 'support');
const LEASE_SECONDS = 2;
const CLAIMER_ID = 'claimer';

/** How far the two children get before SIGKILL; a random extra on top makes every run different. */
const KILL_MOMENTS = [
  { name: 'early', committedBatches: 3, completedTasks: 1 },
  { name: 'mid-run', committedBatches: 25, completedTasks: 80 },
  { name: 'late', committedBatches: 60, completedTasks: 250 },
];

describe('SqliteStore survives kill -9', () => {
  const children = new ChildProcessRegistry();
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-queue-crash-'));
  });

  afterEach(async () => {
    await children.killAll();
    rmSync(directory, { recursive: true, force: true });
  });

  for (const moment of KILL_MOMENTS) {
    it(`loses nothing when an enqueuer and a worker are killed ${moment.name}`, async () => {
      const databasePath = join(directory, 'loki.db');
      // Schema first, so that the children race each other only on queue traffic.
      {
        await using _store = await SqliteStore.open(databasePath);
      }

      const extraBatches = Math.floor(Math.random() * moment.committedBatches);
      const target = {
        committedBatches: moment.committedBatches + extraBatches,
        completedTasks: moment.completedTasks,
      };
      // stdin is a pipe only so that the children notice if this process dies (exit-with-parent.ts).
      const enqueuer = children.start(
        'enqueuer',
        join(SUPPORT_DIRECTORY, 'queue-enqueuer.ts'),
        [databasePath],
        {
          stdin: 'pipe',
        },
      );
      const claimer = children.start(
        'claimer',
        join(SUPPORT_DIRECTORY, 'queue-claimer.ts'),
        [databasePath, CLAIMER_ID, String(LEASE_SECONDS)],
        { stdin: 'pipe' },
      );
      await waitForOutput(
        [enqueuer, claimer],
        () =>
          enqueuer.countLines('committed') >= target.committedBatches &&
          claimer.countLines('completed') >= target.completedTasks &&
          claimer.countLines('held') >= 1,
        { description: `progress ${JSON.stringify(target)}`, timeoutMilliseconds: 30_000 },
      );
      await Promise.all([enqueuer.kill(), claimer.kill()]);
      const context = `target ${JSON.stringify(target)}; ${enqueuer.describe()}; ${claimer.describe()}`;

      // 1. The file opens and is not corrupt (opening also replays the WAL the kill left behind).
      const rawDatabase = new DatabaseSync(databasePath);
      try {
        expect(rawDatabase.prepare('PRAGMA integrity_check').all(), context).toEqual([
          { integrity_check: 'ok' },
        ]);
      } finally {
        rawDatabase.close();
      }

      // A manual clock that starts now: the leases the claimer took (real clock) have not expired yet.
      const clock = new ManualClock(Date.now());
      await using store = await SqliteStore.open(databasePath, { clock });
      const queue = new TaskQueue(store);
      const tasks = await store.listTasks();

      // 2. Every batch reported committed is there in full; no batch is there in part.
      const committedBatches = numbersPrefixed(enqueuer, 'committed ');
      const lastBegunBatch = Math.max(0, ...numbersPrefixed(enqueuer, 'begin '));
      const lastCommittedBatch = Math.max(0, ...committedBatches);
      expect(committedBatches, context).toEqual(
        Array.from({ length: lastCommittedBatch }, (_, index) => index + 1),
      );
      const tasksPerBatch = new Map<number, number>();
      for (const task of tasks) {
        const batchNumber = batchNumberOf(task.id);
        if (batchNumber === null) throw new Error(`unexpected task ${task.id}`);
        tasksPerBatch.set(batchNumber, (tasksPerBatch.get(batchNumber) ?? 0) + 1);
      }
      for (let batchNumber = 1; batchNumber <= lastCommittedBatch; batchNumber += 1) {
        expect(tasksPerBatch.get(batchNumber), `batch ${batchNumber}; ${context}`).toBe(
          batchSize(batchNumber),
        );
      }
      for (const [batchNumber, count] of tasksPerBatch) {
        expect(batchNumber, context).toBeLessThanOrEqual(lastBegunBatch);
        expect(count, `batch ${batchNumber} is torn; ${context}`).toBe(batchSize(batchNumber));
      }

      // 3. What the claimer reported completing is completed, and the store agrees with its events.
      const statusById = new Map(tasks.map((task) => [task.id, task.status]));
      for (const taskId of stringsPrefixed(claimer, 'completed ')) {
        expect(statusById.get(taskId), `${taskId}; ${context}`).toBe('completed');
      }
      await expectEventTrailsConsistent(store, tasks, context);

      // In progress: the tasks the claimer held back, plus at most the one claim in flight at the kill.
      const inProgress = tasks.filter((task) => task.status === 'in_progress');
      expect(inProgress.length, context).toBeGreaterThan(0);
      expect(inProgress.filter((task) => !isHeldTask(task.id)).length, context).toBeLessThanOrEqual(1);
      for (const task of inProgress) expect(task.claimedBy, context).toBe(CLAIMER_ID);

      // 4. Once the leases have run out, reclaiming returns exactly those tasks to the queue.
      clock.advance((LEASE_SECONDS + 1) * 1000);
      const reclaimed = await queue.reclaimExpiredLeases();
      expect(sortedIds(reclaimed), context).toEqual(sortedIds(inProgress));
      const failureCountBefore = new Map(inProgress.map((task) => [task.id, task.failureCount]));
      for (const task of reclaimed) {
        expect(task, context).toMatchObject({
          status: 'pending',
          lastError: 'claim_timeout',
          claimedBy: null,
        });
        expect(task.failureCount, context).toBe((failureCountBefore.get(task.id) ?? Number.NaN) + 1);
      }

      // 5. A fresh worker finishes everything.
      let claimedByRecovery = 0;
      for (;;) {
        const task = await queue.claim({ workerId: 'recovery-worker' });
        if (task === null) break;
        await queue.complete(task.id, 'recovery-worker');
        claimedByRecovery += 1;
      }
      expect(claimedByRecovery, context).toBe(tasks.filter((task) => task.status !== 'completed').length);
      const counts = await queue.counts();
      expect(counts, context).toEqual({
        pending: 0,
        in_progress: 0,
        completed: tasks.length,
        failed: 0,
        dead_letter: 0,
        cancelled: 0,
      });
      await expectEventTrailsConsistent(store, await store.listTasks(), context);
    });
  }
});

async function expectEventTrailsConsistent(
  store: SqliteStore,
  tasks: readonly Task[],
  context: string,
): Promise<void> {
  const eventsByTask = groupEventsByTask(await store.listEvents());
  const problems = tasks.flatMap((task) => findEventTrailProblems(task, eventsByTask.get(task.id) ?? []));
  // Events of a rolled-back insert would point at a task that does not exist.
  const taskIds = new Set(tasks.map((task) => task.id));
  for (const taskId of eventsByTask.keys()) {
    if (!taskIds.has(taskId)) problems.push(`events for a task that does not exist: ${taskId}`);
  }
  expect(problems, context).toEqual([]);
}

function stringsPrefixed(child: SupervisedChild, prefix: string): string[] {
  return child.lines.filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
}

function numbersPrefixed(child: SupervisedChild, prefix: string): number[] {
  return stringsPrefixed(child, prefix).map(Number);
}

function sortedIds(tasks: readonly Task[]): string[] {
  return tasks.map((task) => task.id).sort();
}
