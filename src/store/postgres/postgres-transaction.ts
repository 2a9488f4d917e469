import type { PoolClient, QueryResultRow } from 'pg';
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
 * `finish`: they are numbered and inserted as its last statements, just before COMMIT.
 *
 * Why at the end: numbering takes the row lock of `event_counter` and holds it to COMMIT, which
 * serialises every transaction that appends events. Taken last, it is held for two statements and
 * the commit, not for the whole transition, so claims on other rows still run side by side.
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
   * `finish`. The event returned gets its sequence there, before the caller's promise resolves.
   */
  appendEvent(newEvent: NewEvent): LokiEvent {
    const valid = parseNewEvent(newEvent);
    const event = { ...valid, data: this.redact(valid.data), sequence: 0, createdAt: this.now } as LokiEvent;
    this.#pending.push(event);
    return event;
  }

  /** Numbers and writes the kept events and notifies listeners on other connections; before COMMIT. */
  async finish(): Promise<readonly LokiEvent[]> {
    if (this.#pending.length === 0) return [];
    const counter = await this.row(
      'UPDATE event_counter SET last_sequence = last_sequence + $1 RETURNING last_sequence',
      [this.#pending.length],
    );
    const last = Number(counter?.last_sequence);
    const first = last - this.#pending.length + 1;
    this.#pending.forEach((event, index) => {
      (event as { sequence: number }).sequence = first + index;
    });
    await this.client.query(
      `INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
      [
        this.#pending.map((event) => event.sequence),
        this.#pending.map((event) => event.type),
        this.#pending.map((event) => event.runId),
        this.#pending.map((event) => event.taskId),
        this.#pending.map((event) => JSON.stringify(event.data)),
        this.#pending.map((event) => event.createdAt),
      ],
    );
    // Delivered by the server only at COMMIT, and never for a rolled-back transaction.
    await this.client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, String(last)]);
    return this.#pending;
  }
}
