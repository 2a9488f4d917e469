/** The worker registry of the PostgreSQL store; each function runs inside a PostgresTransaction. */
import { rowToWorker } from '../sqlite/sqlite-rows.ts';
import { joinedEvent } from '../sqlite/sqlite-worker-writes.ts';
import { attributeTasks, type WorkerHeartbeat, type WorkerRecord } from '../worker-record.ts';
import type { PostgresTransaction } from './postgres-transaction.ts';

type Row = NonNullable<Awaited<ReturnType<PostgresTransaction['row']>>>;
type Rows = (sql: string, parameters?: readonly unknown[]) => Promise<Row[]>;

export async function recordHeartbeat(
  tx: PostgresTransaction,
  heartbeat: WorkerHeartbeat,
): Promise<WorkerRecord> {
  const reported = [
    heartbeat.machine,
    heartbeat.pid,
    heartbeat.role,
    heartbeat.runId,
    heartbeat.parallel,
    heartbeat.types === null ? null : JSON.stringify(heartbeat.types),
    heartbeat.heartbeatMilliseconds,
    heartbeat.id,
    tx.now,
  ];
  // One statement, safe against a concurrent first beat of the same id: the insert either happens
  // (xmax = 0: a new row, so the process joined) or turns into the update; a stopped row stays so.
  const row = await tx.row(
    `INSERT INTO workers (machine, pid, role, run_id, parallel, types, heartbeat_ms, id, started_at, last_heartbeat_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
     ON CONFLICT (id) DO UPDATE SET machine = excluded.machine, pid = excluded.pid, role = excluded.role,
       run_id = excluded.run_id, parallel = excluded.parallel, types = excluded.types,
       heartbeat_ms = excluded.heartbeat_ms, last_heartbeat_at = excluded.last_heartbeat_at
     WHERE workers.stopped_at IS NULL
     RETURNING *, (xmax = 0) AS is_new`,
    reported,
  );
  if (row === null) {
    // The conflict's update was skipped: the worker has stopped, and stays as it was.
    return withTasks(tx, await required(tx.row('SELECT * FROM workers WHERE id = $1', [heartbeat.id])));
  }
  if ((row as { is_new?: unknown }).is_new === true) tx.appendEvent(joinedEvent(heartbeat));
  return withTasks(tx, row);
}

export async function markStopped(tx: PostgresTransaction, workerId: string): Promise<WorkerRecord | null> {
  const existing = await tx.row('SELECT * FROM workers WHERE id = $1 FOR UPDATE', [workerId]);
  if (existing === null) return null;
  if (existing.stopped_at !== null) return withTasks(tx, existing);
  const row = await required(
    tx.row('UPDATE workers SET stopped_at = $1 WHERE id = $2 RETURNING *', [tx.now, workerId]),
  );
  tx.appendEvent({
    type: 'worker.left',
    runId: null,
    taskId: null,
    data: { workerId, machine: String(existing.machine) },
  });
  return withTasks(tx, row);
}

/** Every worker with the tasks it holds; `rows` runs in one snapshot. */
export async function listWorkers(rows: Rows): Promise<WorkerRecord[]> {
  const all = await rows('SELECT * FROM workers ORDER BY machine, started_at, id');
  const held = await heldTasks(rows, all);
  return all.map((row) => rowToWorker(row, held.get(String(row.id)) ?? []));
}

async function withTasks(tx: PostgresTransaction, row: Row): Promise<WorkerRecord> {
  const rows: Rows = (sql, parameters) => tx.rows(sql, parameters);
  const held = await heldTasks(rows, await rows('SELECT id FROM workers'));
  return rowToWorker(row, held.get(String(row.id)) ?? []);
}

async function heldTasks(rows: Rows, workers: readonly Row[]): Promise<Map<string, string[]>> {
  const tasks = await rows(
    "SELECT id, claimed_by FROM tasks WHERE status = 'in_progress' ORDER BY claimed_at, seq",
  );
  return attributeTasks(
    workers.map((row) => String(row.id)),
    tasks.map((row) => ({
      id: String(row.id),
      claimedBy: typeof row.claimed_by === 'string' ? row.claimed_by : null,
    })),
  );
}

async function required(row: Promise<Row | null>): Promise<Row> {
  const found = await row;
  if (found === null) throw new Error('a worker write returned no row');
  return found;
}
