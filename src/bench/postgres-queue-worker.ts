/**
 * One of the PostgreSQL queue bench's concurrent workers, its own process (a worker machine has its
 * own process too):
 *
 *   node src/bench/postgres-queue-worker.ts <store|bare> <url> <workerId> <claimedIdsFile>
 *
 * Opens its connection, prints `ready`, waits for `go` on stdin, then claims and completes tasks
 * until none is left, prints `done <count>` and writes the ids it claimed to `claimedIdsFile` (the
 * bench counts double claims from them). `store`: through TaskQueue and PostgresStore, with their
 * events, exactly as a worker does. `bare`: the floor, plain SQL on the same tables, one statement
 * per transition: FOR UPDATE SKIP LOCKED claim with its event from a plain sequence, then complete.
 */
import { writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { TaskQueue } from '../queue/index.ts';
import { PostgresStore } from '../store/index.ts';

const [mode, url, workerId, claimedIdsFile] = process.argv.slice(2);
if ((mode !== 'store' && mode !== 'bare') || url === undefined || workerId === undefined || !claimedIdsFile) {
  throw new Error('usage: postgres-queue-worker.ts <store|bare> <url> <workerId> <claimedIdsFile>');
}

/** Synchronous, as the test support scripts do: a line printed is a line the parent reads. */
function writeLine(line: string): void {
  writeSync(1, `${line}\n`);
}

async function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') {
      lines.close();
      return;
    }
  }
  process.exit(3);
}

async function runStore(storeUrl: string, worker: string): Promise<string[]> {
  await using store = await PostgresStore.open(storeUrl, { poolSize: 1 });
  const queue = new TaskQueue(store);
  writeLine('ready');
  await waitForGo();
  const claimed: string[] = [];
  for (;;) {
    const task = await queue.claim({ workerId: worker });
    if (task === null) return claimed;
    claimed.push(task.id);
    await queue.complete(task.id, worker);
  }
}

const BARE_CLAIM = `
  WITH claimed AS (
    UPDATE tasks SET status = 'in_progress', claimed_by = $1, claimed_at = $2, lease_expires_at = $2 + 3600000,
      attempt_count = attempt_count + 1, updated_at = $2
    WHERE seq = (
      SELECT seq FROM tasks WHERE status IN ('pending', 'failed') AND available_at <= $2
      ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, attempt_count)
  INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
  SELECT nextval('bench_event_sequence'), 'task.claimed', NULL, id,
    json_build_object('workerId', $1::text, 'attempt', attempt_count, 'leaseExpiresAt', $2 + 3600000)::text, $2
  FROM claimed RETURNING task_id`;

const BARE_COMPLETE = `
  WITH completed AS (
    UPDATE tasks SET status = 'completed', completed_at = $3, updated_at = $3, lease_expires_at = NULL
    WHERE id = $2 AND status = 'in_progress' AND claimed_by = $1 RETURNING id, attempt_count)
  INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
  SELECT nextval('bench_event_sequence'), 'task.completed', NULL, id,
    json_build_object('workerId', $1::text, 'attempt', attempt_count)::text, $3
  FROM completed`;

async function runBare(storeUrl: string, worker: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: storeUrl });
  await client.connect();
  try {
    writeLine('ready');
    await waitForGo();
    const claimed: string[] = [];
    for (;;) {
      const row = (await client.query(BARE_CLAIM, [worker, Date.now()])).rows[0] as
        { task_id: string } | undefined;
      if (row === undefined) return claimed;
      claimed.push(row.task_id);
      await client.query(BARE_COMPLETE, [worker, row.task_id, Date.now()]);
    }
  } finally {
    await client.end();
  }
}

const claimed = mode === 'store' ? await runStore(url, workerId) : await runBare(url, workerId);
writeFileSync(claimedIdsFile, JSON.stringify(claimed));
writeLine(`done ${claimed.length}`);
