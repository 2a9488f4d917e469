import { escapeLiteral, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { type LokiEvent, type NewEvent, parseNewEvent } from '../../events/index.ts';
import type { StoreRedactor } from '../sqlite/sqlite-store.ts';
import { rowToTask } from '../sqlite/sqlite-rows.ts';
import { taskLeaseLost, taskNotFound } from '../store-errors.ts';
import type { Task } from '../task-record.ts';

/** The channel every transaction that appended events notifies, with its last sequence as payload. */
export const EVENTS_CHANNEL = 'loki_events';

type Row = Parameters<typeof rowToTask>[0];

/**
 * One open transaction on one pooled connection, with the events it appends kept aside until
 * `commit`: they are numbered and inserted as its last statements, sent with the COMMIT.
 *
 * Why at the end: numbering takes the row lock of `event_counter` and holds it to COMMIT, which
 * serialises every transaction that appends events. Taken last, it is held for one message (the
 * numbering, the inserts, the notification and the commit), not for the whole transition, so
 * claims on other rows still run side by side.
 */
export class PostgresTransaction {
  readonly client: PoolClient;
  readonly now: number;
  readonly #redactor: StoreRedactor | null;
  readonly #pending: LokiEvent[] = [];

  constructor(client: PoolClient, now: number, redactor: StoreRedactor | null) {
    this.client = client;
    this.now = now;
    this.#redactor = redactor;
  }

  async rows(sql: string, parameters: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.client.query<QueryResultRow>(sql, [...parameters]);
    return result.rows as Row[];
  }

  async row(sql: string, parameters: readonly unknown[] = []): Promise<Row | null> {
    return (await this.rows(sql, parameters))[0] ?? null;
  }

  /** An UPDATE/INSERT … RETURNING * of one task that must match. */
  async taskUpdate(sql: string, parameters: readonly unknown[]): Promise<Task> {
    const row = await this.row(sql, parameters);
    if (row === null) throw new Error(`update matched no row: ${sql}`);
    return rowToTask(row);
  }

  /** The task, locked until the transaction ends. */
  async lockTask(taskId: string): Promise<Task | null> {
    const row = await this.row('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [taskId]);
    return row === null ? null : rowToTask(row);
  }

  async requireTask(taskId: string): Promise<Task> {
    const task = await this.lockTask(taskId);
    if (task === null) throw taskNotFound(taskId);
    return task;
  }

  async requireHeldTask(taskId: string, workerId: string): Promise<Task> {
    const task = await this.requireTask(taskId);
    if (task.status !== 'in_progress' || task.claimedBy !== workerId) {
      throw taskLeaseLost(taskId, workerId, task.claimedBy, task.status);
    }
    return task;
  }

  redact<T>(value: T): T {
    return this.#redactor === null ? value : (this.#redactor.redactValue(value) as T);
  }

  /**
   * Validates the event (a throw rolls the transaction back), replaces secrets and keeps it for
   * `commit`. The event returned gets its sequence there, before the caller's promise resolves.
   */
  appendEvent(newEvent: NewEvent): LokiEvent {
    const valid = parseNewEvent(newEvent);
    const event = { ...valid, data: this.redact(valid.data), sequence: 0, createdAt: this.now } as LokiEvent;
    this.#pending.push(event);
    return event;
  }

  /**
   * Numbers and writes the kept events, notifies listeners on other connections, and commits: all
   * in ONE message to the server (the simple query protocol runs several statements), so that the
   * event_counter row lock is held for the server's own work and the commit, never for a round trip
   * to this process. Under concurrent writers that lock is the queue's bottleneck; a client that is
   * slow to send COMMIT (a busy event loop, a loaded machine) would otherwise stall every writer.
   * The values travel as escaped literals, since that protocol takes no parameters.
   */
  async commit(): Promise<readonly LokiEvent[]> {
    if (this.#pending.length === 0) {
      await this.client.query('COMMIT');
      return [];
    }
    const count = this.#pending.length;
    const values = this.#pending
      .map(
        (event, index) =>
          `(${index + 1}::bigint, ${escapeLiteral(event.type)}::text, ${nullableText(event.runId)}, ` +
          `${nullableText(event.taskId)}, ${escapeLiteral(JSON.stringify(event.data))}::text, ` +
          `${integerLiteral(event.createdAt)}::bigint)`,
      )
      .join(', ');
    const results = (await this.client.query(
      `WITH counter AS (UPDATE event_counter SET last_sequence = last_sequence + ${count} RETURNING last_sequence)
       INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
       SELECT counter.last_sequence - ${count} + v.ordinal, v.type, v.run_id, v.task_id, v.data, v.created_at
       FROM counter, (VALUES ${values}) AS v (ordinal, type, run_id, task_id, data, created_at);
       SELECT last_sequence, pg_notify(${escapeLiteral(EVENTS_CHANNEL)}, last_sequence::text) FROM event_counter;
       COMMIT`,
    )) as unknown as QueryResult[];
    // Delivered by the server only at COMMIT, and never for a rolled-back transaction.
    const last = Number(results[1]?.rows[0]?.last_sequence);
    if (!Number.isSafeInteger(last)) throw new Error('the event counter returned no sequence at commit');
    this.#pending.forEach((event, index) => {
      (event as { sequence: number }).sequence = last - count + 1 + index;
    });
    return this.#pending;
  }
}

function nullableText(value: string | null): string {
  return value === null ? 'NULL::text' : `${escapeLiteral(value)}::text`;
}

function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}
