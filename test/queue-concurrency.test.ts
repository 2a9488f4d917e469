/**
 * Several processes claiming from one SQLite file: no task may ever be handed to two workers
 * (DESIGN.md §3, "Queue semantics"). Real processes, a real file, real lock contention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TaskQueue } from '../src/queue/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import { ChildProcessRegistry, type SupervisedChild, waitForOutput } from './support/supervised-child.ts';

const TASK_COUNT = 2_000;
const WORKER_COUNT = 4;
/** Simulated work per task, outside any transaction (see queue-worker.ts for why). */
const WORK_MILLISECONDS = 1;
const WORKER_SCRIPT = join(import.meta.dirname, 'support', 'queue-worker.ts');

const workerReportSchema = z.object({ workerId: z.string(), completedTaskIds: z.array(z.string()) });
type WorkerReport = z.infer<typeof workerReportSchema>;

describe('TaskQueue across processes', () => {
  const children = new ChildProcessRegistry();
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-queue-concurrency-'));
  });

  afterEach(async () => {
    // Kill first: a failed test must not leave workers running (or holding the file open).
    await children.killAll();
    rmSync(directory, { recursive: true, force: true });
  });

  it(`${WORKER_COUNT} processes claim ${TASK_COUNT} tasks, each exactly once`, async () => {
    const databasePath = join(directory, 'loki.db');
    {
      await using store = await SqliteStore.open(databasePath);
      const queue = new TaskQueue(store);
      const requests = Array.from({ length: TASK_COUNT }, (_, index) => ({
        id: `task-${String(index).padStart(4, '0')}`,
        type: 'eng-backend',
        title: `task ${index}`,
      }));
      for (let start = 0; start < requests.length; start += 500) {
        await queue.enqueueMany(requests.slice(start, start + 500));
      }
    }

    const workers: SupervisedChild[] = [];
    for (let index = 1; index <= WORKER_COUNT; index += 1) {
      workers.push(
        children.start(
          `worker-${index}`,
          WORKER_SCRIPT,
          [databasePath, `worker-${index}`, String(WORK_MILLISECONDS)],
          { stdin: 'pipe' },
        ),
      );
    }
    await waitForOutput(workers, () => workers.every((worker) => worker.lines.includes('ready')), {
      description: 'every worker to print "ready"',
      timeoutMilliseconds: 20_000,
    });
    // Released together, so that they contend for the write lock from the first claim on.
    for (const worker of workers) worker.writeLine('go');

    const exits = await Promise.all(workers.map((worker) => worker.exited));
    for (const [index, exit] of exits.entries()) {
      expect(exit, workers[index]?.describe()).toEqual({ code: 0, signal: null });
    }
    const reports = workers.map((worker) => parseReport(worker));

    const completedTaskIds = reports.flatMap((report) => report.completedTaskIds);
    expect(completedTaskIds).toHaveLength(TASK_COUNT);
    expect(new Set(completedTaskIds).size).toBe(TASK_COUNT);
    // A fair share would be 25 %; 5 % is far from it but proves every worker took part.
    for (const report of reports) {
      expect(report.completedTaskIds.length, `share of ${report.workerId}`).toBeGreaterThanOrEqual(
        TASK_COUNT / 20,
      );
    }

    const database = new DatabaseSync(databasePath, { readOnly: true });
    try {
      const statusCounts = database
        .prepare('SELECT status, COUNT(*) AS count FROM tasks GROUP BY status')
        .all();
      expect(statusCounts).toEqual([{ status: 'completed', count: TASK_COUNT }]);

      // The events table is the audit trail: exactly one claim and one completion per task, by the
      // worker that reported the task as its own.
      const claimOwners = new Map<string, string>();
      for (const row of database
        .prepare(
          "SELECT task_id, json_extract(data, '$.workerId') AS worker_id FROM events WHERE type = 'task.claimed'",
        )
        .all()) {
        const taskId = String(row.task_id);
        expect(claimOwners.has(taskId), `second claim of ${taskId}`).toBe(false);
        claimOwners.set(taskId, String(row.worker_id));
      }
      expect(claimOwners.size).toBe(TASK_COUNT);
      for (const report of reports) {
        for (const taskId of report.completedTaskIds) {
          expect(claimOwners.get(taskId), `claimer of ${taskId}`).toBe(report.workerId);
        }
      }
      const completionCounts = database
        .prepare(
          `SELECT COUNT(*) AS tasks, MIN(completions) AS fewest, MAX(completions) AS most FROM (
             SELECT t.id, (SELECT COUNT(*) FROM events e WHERE e.task_id = t.id AND e.type = 'task.completed') AS completions
             FROM tasks t)`,
        )
        .get();
      expect(completionCounts).toEqual({ tasks: TASK_COUNT, fewest: 1, most: 1 });

      // Proof that the workers really ran at the same time: in claim order, the claiming worker
      // changes many times. Run one after the other, it would change only WORKER_COUNT − 1 times.
      const claimOrder = database
        .prepare(
          "SELECT json_extract(data, '$.workerId') AS worker_id FROM events WHERE type = 'task.claimed' ORDER BY sequence",
        )
        .all()
        .map((row) => String(row.worker_id));
      const handovers = claimOrder.filter(
        (workerId, index) => index > 0 && workerId !== claimOrder[index - 1],
      ).length;
      expect(handovers).toBeGreaterThan(WORKER_COUNT * 10);
    } finally {
      database.close();
    }
  });
});

function parseReport(worker: SupervisedChild): WorkerReport {
  const line = worker.lines.find((candidate) => candidate.startsWith('{'));
  if (line === undefined) throw new Error(`no report from ${worker.describe()}`);
  // Our own child's output, but still bytes from another process: check the shape before trusting it.
  return workerReportSchema.parse(JSON.parse(line));
}
