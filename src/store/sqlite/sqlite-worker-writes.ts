/** The worker registry of the SQLite store; each function runs inside the store's transaction. */
import type { NewEvent } from '../../events/index.ts';
import type { SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import { attributeTasks, type WorkerHeartbeat, type WorkerRecord } from '../worker-record.ts';
import { rowToWorker } from './sqlite-rows.ts';

type Row = Record<string, SQLOutputValue>;

export interface SqliteWorkerAccess {
  statement(sql: string): StatementSync;
  appendEvent(event: NewEvent): void;
  now: number;
}

export function recordHeartbeat(access: SqliteWorkerAccess, heartbeat: WorkerHeartbeat): WorkerRecord {
  const { statement, now } = access;
  const existing = statement('SELECT * FROM workers WHERE id = ?').get(heartbeat.id);
  // Stopped is final: a beat that was in flight when the process stopped must not revive it.
  if (existing !== undefined && existing.stopped_at !== null) return withTasks(access, existing);
  const reported: SQLInputValue[] = [
    heartbeat.machine,
    heartbeat.pid,
    heartbeat.role,
    heartbeat.runId,
    heartbeat.parallel,
    heartbeat.types === null ? null : JSON.stringify(heartbeat.types),
    heartbeat.heartbeatMilliseconds,
  ];
  if (existing !== undefined) {
    const row = statement(
      `UPDATE workers SET machine = ?, pid = ?, role = ?, run_id = ?, parallel = ?, types = ?,
         heartbeat_ms = ?, last_heartbeat_at = ?
       WHERE id = ? RETURNING *`,
    ).get(...reported, now, heartbeat.id);
    return withTasks(access, required(row));
  }
  const row = statement(
    `INSERT INTO workers (machine, pid, role, run_id, parallel, types, heartbeat_ms, id, started_at, last_heartbeat_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  ).get(...reported, heartbeat.id, now, now);
  access.appendEvent(joinedEvent(heartbeat));
  return withTasks(access, required(row));
}

export function markStopped(access: SqliteWorkerAccess, workerId: string): WorkerRecord | null {
  const existing = access.statement('SELECT * FROM workers WHERE id = ?').get(workerId);
  if (existing === undefined) return null;
  if (existing.stopped_at !== null) return withTasks(access, existing);
  const row = access
    .statement('UPDATE workers SET stopped_at = ? WHERE id = ? RETURNING *')
    .get(access.now, workerId);
  access.appendEvent({
    type: 'worker.left',
    runId: null,
    taskId: null,
    data: { workerId, machine: String(existing.machine) },
  });
  return withTasks(access, required(row));
}

/** Every worker with the tasks it holds; must run inside one read transaction. */
export function listWorkers(statement: (sql: string) => StatementSync): WorkerRecord[] {
  const rows = statement('SELECT * FROM workers ORDER BY machine, started_at, id').all();
  const held = heldTasks(statement, rows);
  return rows.map((row) => rowToWorker(row, held.get(String(row.id)) ?? []));
}

export function joinedEvent(heartbeat: WorkerHeartbeat): NewEvent {
  return {
    type: 'worker.joined',
    // Events of the process, not of a run: a run's own events end with run.ended, and its
    // process leaves after that.
    runId: null,
    taskId: null,
    data: {
      workerId: heartbeat.id,
      machine: heartbeat.machine,
      pid: heartbeat.pid,
      role: heartbeat.role,
      parallel: heartbeat.parallel,
      types: heartbeat.types === null ? null : [...heartbeat.types],
    },
  };
}

function withTasks(access: SqliteWorkerAccess, row: Row): WorkerRecord {
  const ids = access.statement('SELECT id FROM workers').all();
  return rowToWorker(row, heldTasks(access.statement, ids).get(String(row.id)) ?? []);
}

function heldTasks(
  statement: (sql: string) => StatementSync,
  workers: readonly Row[],
): Map<string, string[]> {
  const tasks = statement(
    "SELECT id, claimed_by FROM tasks WHERE status = 'in_progress' ORDER BY claimed_at, seq",
  ).all();
  return attributeTasks(
    workers.map((row) => String(row.id)),
    tasks.map((row) => ({
      id: String(row.id),
      claimedBy: typeof row.claimed_by === 'string' ? row.claimed_by : null,
    })),
  );
}

function required(row: Row | undefined): Row {
  if (row === undefined) throw new Error('a worker write returned no row');
  return row;
}
