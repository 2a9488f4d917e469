/**
 * The queue's two hot transitions, claim and complete, each as ONE statement sent on its own (no
 * BEGIN, no COMMIT: the server runs a lone statement as its own transaction and commits it before
 * answering). A worker's claim+complete thus costs two round trips, as plain SKIP LOCKED SQL does,
 * instead of seven, and no transaction ever waits on this process between two of its statements.
 *
 * Each statement keeps every guarantee of the multi-statement path in postgres-task-writes.ts:
 * - Event order: the event_counter row is updated by the last data-modifying step, which reads the
 *   changed task row first (`WHERE EXISTS (SELECT 1 FROM changed)`), and its lock is held to the
 *   COMMIT that immediately follows inside the server. Events therefore commit in sequence order
 *   with no gap; a transition that changes nothing takes no number and no lock.
 * - Events: their data is built from values this process validated (parseNewEvent) and redacted,
 *   plus integers the statement reads from the changed row (attempt, lease end). The server writes
 *   that JSON (json_build_object: same keys in the same order, its own spacing); readers parse it.
 * - NOTIFY on EVENTS_CHANNEL with the last sequence, delivered at COMMIT as before.
 * Statements are named, so each pooled connection parses and plans them once.
 */
import { type LokiEvent, type NewEvent, parseNewEvent } from '../../events/index.ts';
import type { StoreRedactor } from '../sqlite/sqlite-store.ts';
import { rowToEvent, rowToTask } from '../sqlite/sqlite-rows.ts';
import type { ClaimRequest } from '../store.ts';
import type { Task } from '../task-record.ts';
import { claimUpdateSql } from './postgres-claim-sql.ts';
import { EVENTS_CHANNEL } from './postgres-transaction.ts';

type Row = Parameters<typeof rowToTask>[0];

export interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
}

/** Runs one statement, a transaction of its own, and returns its rows. */
export type RunStatement = (statement: NamedStatement) => Promise<Row[]>;

/** What a transition committed: its result and the events it appended (for in-process listeners). */
export interface Committed<T> {
  result: T;
  events: readonly LokiEvent[];
}

/**
 * Numbers and appends the event of the row `changed` returns, then notifies. `$1` is the
 * transition's time (the event's created_at); `data` is a SQL expression over `changed`.
 */
function appendEventSteps(type: NewEvent['type'], data: string): string {
  // Scalar subqueries rather than joins: every step is planned as the one row it is. Joins of
  // these CTEs are estimated at thousands of rows (event_counter is rarely analysed), a cost
  // that makes the server JIT-compile the statement on each call, ten times its run time.
  return `
    counter AS (
      UPDATE event_counter SET last_sequence = last_sequence + 1
      WHERE EXISTS (SELECT 1 FROM changed)
      RETURNING last_sequence),
    appended AS (
      INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
      SELECT (SELECT last_sequence FROM counter), '${type}', changed.run_id, changed.id, ${data}, $1
      FROM changed
      RETURNING *),
    notified AS (
      SELECT pg_notify('${EVENTS_CHANNEL}', appended.sequence::text) FROM appended)`;
}

/**
 * The appended event, prefixed in the result row so that it does not clash with the task's columns.
 * `notifications` reads `notified`: a CTE that modifies nothing runs only when read, and its NOTIFY
 * must run whenever an event was appended.
 */
const EVENT_COLUMNS = `(SELECT COUNT(*) FROM notified) AS notifications, appended.sequence AS event_sequence, appended.type AS event_type,
  appended.run_id AS event_run_id, appended.task_id AS event_task_id, appended.data AS event_data,
  appended.created_at AS event_created_at`;

function eventOf(row: Row): LokiEvent {
  return rowToEvent({
    sequence: row.event_sequence ?? null,
    type: row.event_type ?? null,
    run_id: row.event_run_id ?? null,
    task_id: row.event_task_id ?? null,
    data: row.event_data ?? null,
    created_at: row.event_created_at ?? null,
  });
}

/**
 * The worker id as the event will carry it: the event is validated with placeholder integers where
 * the statement fills in the row's own, and redacted like every event's data.
 */
function eventWorkerId(
  event: NewEvent & { data: { workerId: string } },
  redactor: StoreRedactor | null,
): string {
  const valid = parseNewEvent(event) as typeof event;
  const data = redactor === null ? valid.data : (redactor.redactValue(valid.data) as typeof valid.data);
  return data.workerId;
}

/**
 * The claim, unless some lease has expired: then its result is 'expired leases', having changed
 * nothing, and the caller claims in a transaction that first returns those tasks to the queue
 * (their failure handling — backoff, dead letter, reservations — is not worth a statement of its
 * own for a case that rare).
 */
export async function claimTask(
  run: RunStatement,
  request: ClaimRequest,
  now: number,
  redactor: StoreRedactor | null,
): Promise<Committed<Task | null | 'expired leases'>> {
  const workerId = eventWorkerId(
    {
      type: 'task.claimed',
      runId: null,
      taskId: 'placeholder',
      data: { workerId: request.workerId, attempt: 1, leaseExpiresAt: now },
    },
    redactor,
  );
  const values: unknown[] = [now, request.workerId, request.leaseMilliseconds ?? null, workerId];
  let filter = '';
  let name = 'loki_claim';
  if (request.types !== undefined && request.types.length > 0) {
    values.push([...request.types]);
    filter += ` AND t.type = ANY($${values.length}::text[])`;
    name += '_types';
  }
  if (request.taskId !== undefined) {
    values.push(request.taskId);
    filter += ` AND t.id = $${values.length}`;
    name += '_task';
  }
  // The expired check never locks: a lease another transaction is reclaiming sends this claim to
  // the slower path too, which skips that task, exactly as the transaction would have done.
  const text = `
    WITH expired AS (
      SELECT 1 FROM tasks WHERE status = 'in_progress' AND lease_expires_at <= $1 LIMIT 1),
    changed AS (
      ${claimUpdateSql({
        workerId: '$2',
        now: '$1',
        leaseMilliseconds: '$3',
        filter: `AND NOT EXISTS (SELECT 1 FROM expired) ${filter}`,
      })}),
    ${appendEventSteps(
      'task.claimed',
      `json_build_object('workerId', $4::text, 'attempt', changed.attempt_count,
         'leaseExpiresAt', changed.lease_expires_at)::text`,
    )}
    SELECT (SELECT COUNT(*) FROM expired)::integer AS expired_leases, changed.*, ${EVENT_COLUMNS}
    FROM (SELECT 1) AS always LEFT JOIN changed ON true LEFT JOIN appended ON true`;
  const [row] = await run({ name, text, values });
  if (row === undefined) throw new Error('the claim statement returned no row');
  if (row.expired_leases !== 0) return { result: 'expired leases', events: [] };
  if (row.id === null) return { result: null, events: [] };
  return { result: rowToTask(row), events: [eventOf(row)] };
}

/**
 * Completes the task if `workerId` holds it. Its result is null when it does not (lease lost, or no
 * such task), having changed nothing: the caller reads the task to say why.
 */
export async function completeTask(
  run: RunStatement,
  taskId: string,
  workerId: string,
  resultJson: string | null,
  now: number,
  redactor: StoreRedactor | null,
): Promise<Committed<Task | null>> {
  const eventWorker = eventWorkerId(
    { type: 'task.completed', runId: null, taskId, data: { workerId, attempt: 1 } },
    redactor,
  );
  // The guard is in the WHERE clause: one statement both checks the lease and completes.
  const text = `
    WITH changed AS (
      UPDATE tasks SET status = 'completed', completed_at = $1, updated_at = $1, result = $2,
        lease_expires_at = NULL
      WHERE id = $3 AND status = 'in_progress' AND claimed_by = $4
      RETURNING *),
    ${appendEventSteps(
      'task.completed',
      `json_build_object('workerId', $5::text, 'attempt', changed.attempt_count)::text`,
    )}
    SELECT changed.*, ${EVENT_COLUMNS}
    FROM changed JOIN appended ON true`;
  const [row] = await run({
    name: 'loki_complete',
    text,
    values: [now, resultJson, taskId, workerId, eventWorker],
  });
  if (row === undefined) return { result: null, events: [] };
  return { result: rowToTask(row), events: [eventOf(row)] };
}
