import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { TaskQueue } from '../queue/index.ts';
import { SqliteStore } from '../store/index.ts';
import { median, roundTo, timeAsync } from './timing.ts';

export interface ThroughputRun {
  seconds: number;
  opsPerSecond: number;
}

export interface ThroughputMeasurement {
  taskCount: number;
  runs: ThroughputRun[];
  medianOpsPerSecond: number;
}

const ENQUEUE_BATCH_SIZE = 1_000;
const WORKER_ID = 'bench-worker';

/** A database with `taskCount` independent pending tasks, written through the queue like production. */
async function prepareDatabase(path: string, taskCount: number): Promise<void> {
  await using store = await SqliteStore.open(path);
  const queue = new TaskQueue(store);
  for (let start = 0; start < taskCount; start += ENQUEUE_BATCH_SIZE) {
    const size = Math.min(ENQUEUE_BATCH_SIZE, taskCount - start);
    await queue.enqueueMany(
      Array.from({ length: size }, (_, index) => ({ type: 'bench', title: `bench task ${start + index}` })),
    );
  }
}

function toRun(milliseconds: number, pairs: number): ThroughputRun {
  return {
    seconds: roundTo(milliseconds / 1000, 3),
    opsPerSecond: Math.round(pairs / (milliseconds / 1000)),
  };
}

function summarize(taskCount: number, runs: ThroughputRun[]): ThroughputMeasurement {
  return { taskCount, runs, medianOpsPerSecond: median(runs.map((run) => run.opsPerSecond)) };
}

/** claim + complete through TaskQueue and SqliteStore, one process, until the queue is empty. */
export async function measureClaimComplete(
  directory: string,
  taskCount: number,
  runCount: number,
): Promise<ThroughputMeasurement> {
  const runs: ThroughputRun[] = [];
  for (let run = 1; run <= runCount; run += 1) {
    const path = join(directory, `claim-complete-${run}.db`);
    await prepareDatabase(path, taskCount);
    await using store = await SqliteStore.open(path);
    const queue = new TaskQueue(store);
    const { milliseconds, result: pairs } = await timeAsync(async () => {
      let completed = 0;
      for (;;) {
        const task = await queue.claim({ workerId: WORKER_ID });
        if (task === null) return completed;
        await queue.complete(task.id, WORKER_ID);
        completed += 1;
      }
    });
    if (pairs !== taskCount) throw new Error(`claimed ${pairs} tasks, expected ${taskCount}`);
    runs.push(toRun(milliseconds, pairs));
  }
  return summarize(taskCount, runs);
}

/**
 * The floor: the same rows and the same shape of writes with raw prepared statements and nothing
 * else. Claim = pick the best candidate, mark it in progress, append task.claimed; complete = mark
 * it completed, append task.completed; each its own BEGIN IMMEDIATE transaction. Same schema and
 * data as measureClaimComplete (prepared by SqliteStore), same pragmas.
 */
export async function measureBareSqlite(
  directory: string,
  taskCount: number,
  runCount: number,
): Promise<ThroughputMeasurement> {
  const runs: ThroughputRun[] = [];
  for (let run = 1; run <= runCount; run += 1) {
    const path = join(directory, `bare-${run}.db`);
    await prepareDatabase(path, taskCount);
    const database = new DatabaseSync(path);
    try {
      database.exec('PRAGMA journal_mode = WAL');
      database.exec('PRAGMA synchronous = NORMAL');
      const pairs = runBareLoop(database);
      if (pairs.count !== taskCount) throw new Error(`claimed ${pairs.count} tasks, expected ${taskCount}`);
      runs.push(toRun(pairs.milliseconds, pairs.count));
    } finally {
      database.close();
    }
  }
  return summarize(taskCount, runs);
}

function runBareLoop(database: DatabaseSync): { count: number; milliseconds: number } {
  const begin = database.prepare('BEGIN IMMEDIATE');
  const commit = database.prepare('COMMIT');
  const selectCandidate = database.prepare(
    `SELECT id FROM tasks INDEXED BY tasks_claimable
     WHERE status IN ('pending', 'failed') AND available_at <= ?
     ORDER BY priority DESC, seq LIMIT 1`,
  );
  const markClaimed = database.prepare(
    `UPDATE tasks SET status = 'in_progress', claimed_by = ?, claimed_at = ?, lease_expires_at = ?,
       attempt_count = attempt_count + 1, updated_at = ?
     WHERE id = ?`,
  );
  const markCompleted = database.prepare(
    `UPDATE tasks SET status = 'completed', completed_at = ?, updated_at = ?, result = NULL, lease_expires_at = NULL
     WHERE id = ?`,
  );
  const insertEvent = database.prepare(
    'INSERT INTO events (type, run_id, task_id, data, created_at) VALUES (?, NULL, ?, ?, ?)',
  );
  const start = performance.now();
  let count = 0;
  for (;;) {
    begin.run();
    const now = Date.now();
    const candidate = selectCandidate.get(now);
    if (candidate === undefined) {
      commit.run();
      break;
    }
    const taskId = String(candidate.id);
    const leaseExpiresAt = now + 3_600_000;
    markClaimed.run(WORKER_ID, now, leaseExpiresAt, now, taskId);
    insertEvent.run(
      'task.claimed',
      taskId,
      JSON.stringify({ workerId: WORKER_ID, attempt: 1, leaseExpiresAt }),
      now,
    );
    commit.run();

    begin.run();
    const completedAt = Date.now();
    markCompleted.run(completedAt, completedAt, taskId);
    insertEvent.run(
      'task.completed',
      taskId,
      JSON.stringify({ workerId: WORKER_ID, attempt: 1 }),
      completedAt,
    );
    commit.run();
    count += 1;
  }
  return { count, milliseconds: performance.now() - start };
}
