import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Clock } from '../../clock/index.ts';
import { systemClock } from '../../clock/index.ts';
import {
  type LokiEvent,
  type NewEvent,
  parseNewEvent,
  type RunSettingsRecordedData,
} from '../../events/index.ts';
import { decideRunControl } from '../decide-run-control.ts';
import type { BreakerSnapshot, BreakerTransition } from '../breaker-record.ts';
import { type EventsAppendedListener, EventsAppendedNotifier } from '../events-appended-notifier.ts';
import type {
  CancelledTasks,
  ClaimRequest,
  EventFilter,
  NewRun,
  RetryPolicy,
  Run,
  RunChanges,
  RunControlAction,
  RunControlOutcome,
  RunControlRequest,
  RunStatus,
  Store,
  StoreSnapshot,
  StoreSummary,
  TaskFilter,
} from '../store.ts';
import { runStatusOf } from '../store.ts';
import { isStoreFault } from '../store-faults.ts';
import {
  deferralCycle,
  duplicateIdempotencyKey,
  duplicateTaskId,
  invalidTaskTransition,
  runNotFound,
  taskLeaseLost,
  taskNotFound,
  unknownDependency,
} from '../store-errors.ts';
import {
  emptyTaskCounts,
  type NewTask,
  type Task,
  type TaskCounts,
  type TaskStatus,
} from '../task-record.ts';
import { backUpSqliteDatabase } from './sqlite-backup.ts';
import { classifySqliteError } from './sqlite-faults.ts';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
import { rowToBreaker, rowToEvent, rowToRun, rowToTask } from './sqlite-rows.ts';
import * as workers from './sqlite-worker-writes.ts';
import type { WorkerHeartbeat, WorkerRecord } from '../worker-record.ts';

export interface SqliteStoreOptions {
  clock?: Clock;
  /** How long a writer waits for another process's transaction before giving up. */
  busyTimeoutMilliseconds?: number;
  /** Replaces secrets in what is written: event payloads, task errors and results (see createRedactor). */
  redactor?: StoreRedactor;
  /** How to get the data back if the file turns out corrupt (named in the STORE_CORRUPT message). */
  restoreAdvice?: () => string;
}

/** What the store needs of the sandbox's Redactor: a copy of a JSON-like value with secrets replaced. */
export interface StoreRedactor {
  redactValue(value: unknown): unknown;
}

function isFinalRunStatus(status: RunStatus): status is 'completed' | 'stopped' | 'failed' {
  return status !== 'running';
}

/** The status a run update leads to; a contradictory request is a programming error. */
function nextRunStatus(current: RunStatus, changes: RunChanges): RunStatus {
  const requested =
    changes.resume === true
      ? 'running'
      : changes.ending === undefined
        ? null
        : runStatusOf(changes.ending.outcome);
  if (requested !== null && changes.status !== undefined && changes.status !== requested) {
    throw new Error(`a run update asks for status ${changes.status} and ${requested} at once`);
  }
  if (changes.resume === true && changes.ending !== undefined) {
    throw new Error('a run update cannot resume and end the run at once');
  }
  return requested ?? changes.status ?? current;
}

/**
 * The embedded store: one SQLite file in WAL mode, shared safely by any number of processes.
 *
 * Invariants:
 * - Every write is a `BEGIN IMMEDIATE` transaction, so the read-then-write inside a claim can never
 *   interleave with another process's claim: SQLite serialises writers at BEGIN.
 * - Every state change appends its event inside the same transaction.
 * - node:sqlite is synchronous, so a method's transaction never spans an `await`: two async calls
 *   in one process cannot interleave inside a transaction either.
 * - Event sequences are rowids assigned inside those serialised write transactions (the largest
 *   so far + 1), so transactions commit in sequence order: a reader that sees sequence n has seen
 *   every event before n. The event bus relies on this to follow the log without gaps.
 * - Every event is validated before it is written, and listeners hear of it only after COMMIT.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #database: DatabaseSync;
  readonly #clock: Clock;
  readonly #redactor: StoreRedactor | null;
  readonly #statements = new Map<string, StatementSync>();
  readonly #restoreAdvice: () => string;
  readonly #appendedListeners = new EventsAppendedNotifier();
  /** Events appended by the open write transaction, announced once it commits. */
  #appendedInTransaction: LokiEvent[] = [];
  #isClosed = false;

  private constructor(path: string, options: SqliteStoreOptions) {
    this.location = path;
    this.#clock = options.clock ?? systemClock;
    this.#redactor = options.redactor ?? null;
    this.#restoreAdvice = options.restoreAdvice ?? (() => 'Restore it from a backup.');
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.#database = new DatabaseSync(path);
    } catch (error) {
      throw this.#fault(error);
    }
    try {
      this.#configure(options);
    } catch (error) {
      this.#database.close();
      throw this.#fault(error);
    }
  }

  #configure(options: SqliteStoreOptions): void {
    this.#database.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMilliseconds ?? 30_000}`);
    this.#database.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode keeps the database consistent across crashes and power loss; only the
    // last transactions before a power loss (not a process kill) may be rolled back.
    this.#database.exec('PRAGMA synchronous = NORMAL');
    this.#database.exec('PRAGMA foreign_keys = ON');
    // 32 MB of page cache (default 2 MB): the claim index and hot rows stay in memory.
    this.#database.exec('PRAGMA cache_size = -32000');
    this.#database.exec('PRAGMA wal_autocheckpoint = 4000');
    this.#migrate();
  }

  /** Opens (creating if needed) the database at `path` and applies pending migrations. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    return new SqliteStore(path, options);
  }

  #migrate(): void {
    this.#database.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    );
    for (const migration of SQLITE_MIGRATIONS) {
      this.#write(() => {
        // Re-checked inside the write lock: another process may have applied it meanwhile.
        const applied = this.#database
          .prepare('SELECT 1 FROM schema_migrations WHERE version = ?')
          .get(migration.version);
        if (applied !== undefined) return;
        this.#database.exec(migration.sql);
        this.#database
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, this.#clock.now());
      });
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#database.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** SQLite and file-system failures as Loki errors: store faults, STORE_BUSY (see sqlite-faults.ts). */
  #fault(error: unknown): unknown {
    return classifySqliteError(error, { location: this.location, restoreAdvice: this.#restoreAdvice });
  }

  #write<T>(body: () => T): T {
    try {
      this.#statement('BEGIN IMMEDIATE').run();
    } catch (error) {
      throw this.#fault(error);
    }
    this.#appendedInTransaction = [];
    let result: T;
    try {
      result = body();
      this.#statement('COMMIT').run();
    } catch (error) {
      this.#appendedInTransaction = [];
      // After some faults (a full disk, an I/O error) SQLite has already rolled back by itself.
      if (this.#database.isTransaction) this.#rollbackAfter(error);
      throw this.#fault(error);
    }
    // Only now, after COMMIT: a listener that reads the log (from any connection) finds them.
    const appended = this.#appendedInTransaction;
    this.#appendedInTransaction = [];
    this.#appendedListeners.notify(appended);
    return result;
  }

  #rollbackAfter(error: unknown): void {
    try {
      this.#database.exec('ROLLBACK');
    } catch (rollbackError) {
      // A rollback fails only when the storage does: that is what to report, unless the first
      // error already says so.
      const first = this.#fault(error);
      throw isStoreFault(first) ? first : this.#fault(rollbackError);
    }
  }

  #read<T>(body: () => T): T {
    try {
      // A deferred transaction gives every statement inside it the same snapshot (WAL).
      this.#database.exec('BEGIN');
      try {
        return body();
      } finally {
        if (this.#database.isTransaction) this.#database.exec('COMMIT');
      }
    } catch (error) {
      throw this.#fault(error);
    }
  }

  /** A read outside a transaction, with its failures classified like every other. */
  #guard<T>(body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw this.#fault(error);
    }
  }

  #redact<T>(value: T): T {
    return this.#redactor === null ? value : (this.#redactor.redactValue(value) as T);
  }

  /**
   * The one place events are written; must run inside `#write`. Each event is checked against the
   * union (a throw rolls the whole transaction back), then secrets are replaced, whoever emitted it.
   * Validated before redaction: the caller's shape is what is judged, and redaction keeps shapes.
   */
  #appendEvent(newEvent: NewEvent, now: number): LokiEvent {
    const valid = parseNewEvent(newEvent);
    const event = { ...valid, data: this.#redact(valid.data) } as NewEvent;
    const { lastInsertRowid } = this.#statement(
      'INSERT INTO events (type, run_id, task_id, data, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(event.type, event.runId, event.taskId, JSON.stringify(event.data), now);
    const appended = { ...event, sequence: Number(lastInsertRowid), createdAt: now };
    this.#appendedInTransaction.push(appended);
    return appended;
  }

  #taskRow(taskId: string): Task | null {
    const row = this.#statement('SELECT * FROM tasks WHERE id = ?').get(taskId);
    return row === undefined ? null : rowToTask(row);
  }

  #requireTask(taskId: string): Task {
    const task = this.#taskRow(taskId);
    if (task === null) throw taskNotFound(taskId);
    return task;
  }

  #requireHeldTask(taskId: string, workerId: string): Task {
    const task = this.#requireTask(taskId);
    if (task.status !== 'in_progress' || task.claimedBy !== workerId) {
      throw taskLeaseLost(taskId, workerId, task.claimedBy, task.status);
    }
    return task;
  }

  #update(sql: string, ...parameters: SQLInputValue[]): Task {
    const row = this.#statement(sql).get(...parameters);
    if (row === undefined) throw new Error(`update matched no row: ${sql}`);
    return rowToTask(row);
  }

  async insertTasks(tasks: readonly NewTask[]): Promise<Task[]> {
    return this.#write(() => this.#insertTasks(tasks, this.#clock.now()));
  }

  /** Validates and inserts a batch with its `task.enqueued` events; must run inside `#write`. */
  #insertTasks(tasks: readonly NewTask[], now: number): Task[] {
    const batchIds = new Set<string>();
    const batchKeys = new Map<string, string>();
    for (const task of tasks) {
      if (batchIds.has(task.id) || this.#taskRow(task.id) !== null) throw duplicateTaskId(task.id);
      batchIds.add(task.id);
      if (task.idempotencyKey !== null) {
        const earlier = batchKeys.get(task.idempotencyKey);
        if (earlier !== undefined) throw duplicateIdempotencyKey(task.idempotencyKey, earlier);
        const existing = this.#statement('SELECT id FROM tasks WHERE idempotency_key = ?').get(
          task.idempotencyKey,
        );
        if (existing !== undefined) throw duplicateIdempotencyKey(task.idempotencyKey, String(existing.id));
        batchKeys.set(task.idempotencyKey, task.id);
      }
    }
    const inserted: Task[] = [];
    for (const task of tasks) {
      for (const dependencyId of task.dependencies) {
        if (!batchIds.has(dependencyId) && this.#taskRow(dependencyId) === null) {
          throw unknownDependency(task.id, dependencyId);
        }
        this.#statement('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)').run(
          task.id,
          dependencyId,
        );
      }
      inserted.push(
        this.#update(
          `INSERT INTO tasks (id, type, title, description, priority, dependencies, payload, idempotency_key,
             run_id, status, timeout_seconds, max_attempts, available_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING *`,
          task.id,
          task.type,
          task.title,
          task.description,
          task.priority,
          JSON.stringify(task.dependencies),
          task.payload === undefined ? null : JSON.stringify(task.payload),
          task.idempotencyKey,
          task.runId,
          task.timeoutSeconds,
          task.maxAttempts,
          now,
          now,
          now,
        ),
      );
      this.#appendEvent(
        {
          type: 'task.enqueued',
          runId: task.runId,
          taskId: task.id,
          data: {
            type: task.type,
            title: task.title,
            priority: task.priority,
            dependencies: task.dependencies,
            idempotencyKey: task.idempotencyKey,
          },
        },
        now,
      );
    }
    return inserted;
  }

  async claimTask(request: ClaimRequest): Promise<Task | null> {
    return this.#write(() => {
      const now = this.#clock.now();
      this.#reclaimExpired(now, IMMEDIATE_RETRY);
      const types = request.types ?? [];
      const typeFilter =
        (types.length === 0 ? '' : `AND t.type IN (${types.map(() => '?').join(', ')})`) +
        (request.taskId === undefined ? '' : ' AND t.id = ?');
      // One statement picks and takes the task. INDEXED BY: without it the planner prefers
      // tasks_status and sorts every ready task on each claim; the partial index yields them
      // already in claim order, so the scan stops at the first ready one.
      const row = this.#statement(
        `UPDATE tasks SET status = 'in_progress', claimed_by = ?, claimed_at = ?,
           lease_expires_at = ? + COALESCE(?, timeout_seconds * 1000),
           attempt_count = attempt_count + 1, updated_at = ?
         WHERE seq = (
           SELECT t.seq FROM tasks t INDEXED BY tasks_claimable
           WHERE t.status IN ('pending', 'failed') AND t.available_at <= ? ${typeFilter}
             AND NOT EXISTS (
               SELECT 1 FROM task_dependencies d JOIN tasks dependency ON dependency.id = d.depends_on_id
               WHERE d.task_id = t.id AND dependency.status <> 'completed')
           ORDER BY t.priority DESC, t.seq
           LIMIT 1)
         RETURNING *`,
      ).get(
        request.workerId,
        now,
        now,
        request.leaseMilliseconds ?? null,
        now,
        now,
        ...types,
        ...(request.taskId === undefined ? [] : [request.taskId]),
      );
      if (row === undefined) return null;
      const task = rowToTask(row);
      const leaseExpiresAt = task.leaseExpiresAt ?? now;
      this.#appendEvent(
        {
          type: 'task.claimed',
          runId: task.runId,
          taskId: task.id,
          data: {
            workerId: request.workerId,
            attempt: task.attemptCount,
            leaseExpiresAt,
          },
        },
        now,
      );
      return task;
    });
  }

  async extendLease(taskId: string, workerId: string, leaseMilliseconds: number): Promise<Task> {
    return this.#write(() => {
      this.#requireHeldTask(taskId, workerId);
      const now = this.#clock.now();
      return this.#update(
        'UPDATE tasks SET lease_expires_at = ?, updated_at = ? WHERE id = ? RETURNING *',
        now + leaseMilliseconds,
        now,
        taskId,
      );
    });
  }

  async completeTask(taskId: string, workerId: string, result: unknown): Promise<Task> {
    return this.#write(() => {
      const now = this.#clock.now();
      // The guard is in the WHERE clause: one statement both checks the lease and completes.
      const row = this.#statement(
        `UPDATE tasks SET status = 'completed', completed_at = ?, updated_at = ?, result = ?,
           lease_expires_at = NULL
         WHERE id = ? AND status = 'in_progress' AND claimed_by = ? RETURNING *`,
      ).get(now, now, result === undefined ? null : JSON.stringify(this.#redact(result)), taskId, workerId);
      if (row === undefined) {
        const task = this.#requireTask(taskId);
        throw taskLeaseLost(taskId, workerId, task.claimedBy, task.status);
      }
      const task = rowToTask(row);
      this.#appendEvent(
        {
          type: 'task.completed',
          runId: task.runId,
          taskId,
          data: { workerId, attempt: task.attemptCount },
        },
        now,
      );
      return task;
    });
  }

  async failTask(taskId: string, workerId: string, error: string, policy: RetryPolicy): Promise<Task> {
    return this.#write(() => {
      const held = this.#requireHeldTask(taskId, workerId);
      return this.#recordFailure(held, this.#redact(error), policy, this.#clock.now(), 'failed');
    });
  }

  /**
   * One failed attempt. At maxAttempts the task goes to dead letter; otherwise it waits out its
   * backoff (`failed`) or, for an expired lease, returns straight to `pending`.
   */
  #recordFailure(
    task: Task,
    error: string,
    policy: RetryPolicy,
    now: number,
    outcome: 'failed' | 'lease_expired',
  ): Task {
    const failureCount = task.failureCount + 1;
    const workerId = task.claimedBy;
    if (failureCount >= task.maxAttempts) {
      const deadLettered = this.#update(
        `UPDATE tasks SET status = 'dead_letter', failure_count = ?, last_error = ?, claimed_by = NULL,
           claimed_at = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE id = ? RETURNING *`,
        failureCount,
        error,
        now,
        task.id,
      );
      this.#appendEvent(
        {
          type: 'task.dead_lettered',
          runId: task.runId,
          taskId: task.id,
          data: { workerId, error, failureCount },
        },
        now,
      );
      return deadLettered;
    }
    const backoffSeconds = outcome === 'failed' ? policy.backoffSeconds(failureCount) : 0;
    const availableAt = now + Math.round(backoffSeconds * 1000);
    const status: TaskStatus = outcome === 'failed' ? 'failed' : 'pending';
    const updated = this.#update(
      `UPDATE tasks SET status = ?, failure_count = ?, backoff_seconds = ?, available_at = ?, last_error = ?,
         claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE id = ? RETURNING *`,
      status,
      failureCount,
      backoffSeconds,
      availableAt,
      error,
      now,
      task.id,
    );
    if (outcome === 'failed') {
      this.#appendEvent(
        {
          type: 'task.failed',
          runId: task.runId,
          taskId: task.id,
          data: {
            workerId: workerId ?? '',
            attempt: task.attemptCount,
            error,
            failureCount,
            backoffSeconds,
            availableAt,
          },
        },
        now,
      );
    } else {
      this.#appendEvent(
        {
          type: 'task.lease_expired',
          runId: task.runId,
          taskId: task.id,
          data: { workerId, reason: 'claim_timeout', failureCount },
        },
        now,
      );
    }
    return updated;
  }

  #reclaimExpired(now: number, policy: RetryPolicy): Task[] {
    const expired = this.#statement(
      "SELECT * FROM tasks INDEXED BY tasks_leases WHERE status = 'in_progress' AND lease_expires_at <= ? ORDER BY lease_expires_at",
    )
      .all(now)
      .map(rowToTask);
    return expired.map((task) => this.#recordFailure(task, 'claim_timeout', policy, now, 'lease_expired'));
  }

  async reclaimExpiredLeases(policy: RetryPolicy): Promise<Task[]> {
    return this.#write(() => this.#reclaimExpired(this.#clock.now(), policy));
  }

  async releaseTask(
    taskId: string,
    workerId: string | null,
    reason: string,
    notBefore?: number,
  ): Promise<Task> {
    return this.#write(() => {
      const task = workerId === null ? this.#requireTask(taskId) : this.#requireHeldTask(taskId, workerId);
      if (task.status !== 'in_progress') return task;
      const now = this.#clock.now();
      const availableAt = notBefore === undefined ? now : Math.max(now, Math.round(notBefore));
      const released = this.#returnToPending(task, task.dependencies, now, availableAt);
      this.#appendEvent(
        {
          type: 'task.released',
          runId: task.runId,
          taskId,
          data: {
            workerId: task.claimedBy,
            reason,
            ...(notBefore === undefined ? {} : { availableAt }),
          },
        },
        now,
      );
      return released;
    });
  }

  async deferTask(
    taskId: string,
    workerId: string,
    newTasks: readonly NewTask[],
    reason: string,
  ): Promise<Task> {
    return this.#write(() => {
      // Checked before anything is inserted; a later throw rolls the inserts back with the rest.
      const held = this.#requireHeldTask(taskId, workerId);
      const now = this.#clock.now();
      const addedDependencies = this.#insertTasks(newTasks, now).map((task) => task.id);
      // Deferring is the one way a stored task gains dependencies, so it is the one place outside a
      // batch where a cycle can form: a new task that waits, through stored tasks, for this one.
      const dependent = this.#statement(
        `WITH RECURSIVE reachable(origin, id) AS (
           SELECT value, value FROM json_each(?)
           UNION
           SELECT reachable.origin, d.depends_on_id FROM task_dependencies d JOIN reachable ON d.task_id = reachable.id)
         SELECT origin FROM reachable WHERE id = ? LIMIT 1`,
      ).get(JSON.stringify(addedDependencies), taskId);
      if (dependent !== undefined) throw deferralCycle(taskId, String(dependent.origin));
      for (const dependencyId of addedDependencies) {
        this.#statement('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)').run(
          taskId,
          dependencyId,
        );
      }
      const deferred = this.#returnToPending(held, [...held.dependencies, ...addedDependencies], now);
      this.#appendEvent(
        { type: 'task.deferred', runId: held.runId, taskId, data: { workerId, addedDependencies, reason } },
        now,
      );
      return deferred;
    });
  }

  /** Back to the queue, claimable from `availableAt` (now by default), without counting a failure: attempt and failure counts stay. */
  #returnToPending(task: Task, dependencies: readonly string[], now: number, availableAt = now): Task {
    return this.#update(
      `UPDATE tasks SET status = 'pending', dependencies = ?, available_at = ?, claimed_by = NULL,
         claimed_at = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE id = ? RETURNING *`,
      JSON.stringify(dependencies),
      availableAt,
      now,
      task.id,
    );
  }

  async cancelTask(taskId: string, reason: string | null): Promise<CancelledTasks> {
    return this.#write(() => {
      const task = this.#requireTask(taskId);
      if (task.status === 'completed' || task.status === 'cancelled') {
        throw invalidTaskTransition(taskId, task.status, 'cancel', 'only unfinished tasks can be cancelled');
      }
      const now = this.#clock.now();
      const cancelled = this.#cancel(task, reason, now);
      // Whatever waits on it, directly or not, could never run: it goes with it, so no run stalls.
      const waiting = this.#statement(
        `WITH RECURSIVE dependents(id) AS (
           SELECT task_id FROM task_dependencies WHERE depends_on_id = ?
           UNION
           SELECT d.task_id FROM task_dependencies d JOIN dependents ON d.depends_on_id = dependents.id)
         SELECT t.* FROM tasks t JOIN dependents ON t.id = dependents.id
         WHERE t.status NOT IN ('completed', 'cancelled') ORDER BY t.seq`,
      )
        .all(taskId)
        .map(rowToTask);
      const dependents = waiting.map((dependent) =>
        this.#cancel(dependent, `cancelled with ${taskId}, which it waits for`, now),
      );
      return { task: cancelled, dependents };
    });
  }

  /** The cancel transition of one task with its event; must run inside `#write`. */
  #cancel(task: Task, reason: string | null, now: number): Task {
    const cancelled = this.#update(
      `UPDATE tasks SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL,
         last_error = COALESCE(?, last_error), updated_at = ?
       WHERE id = ? RETURNING *`,
      reason,
      now,
      task.id,
    );
    this.#appendEvent(
      {
        type: 'task.cancelled',
        runId: task.runId,
        taskId: task.id,
        data: { previousStatus: task.status, reason },
      },
      now,
    );
    return cancelled;
  }

  async retryTask(taskId: string): Promise<Task> {
    return this.#write(() => {
      const task = this.#requireTask(taskId);
      if (task.status !== 'dead_letter' && task.status !== 'failed' && task.status !== 'cancelled') {
        throw invalidTaskTransition(
          taskId,
          task.status,
          'retry',
          'only dead-lettered, failed or cancelled tasks can be retried',
        );
      }
      const now = this.#clock.now();
      const retried = this.#update(
        `UPDATE tasks SET status = 'pending', failure_count = 0, backoff_seconds = 0, available_at = ?, updated_at = ?
         WHERE id = ? RETURNING *`,
        now,
        now,
        taskId,
      );
      this.#appendEvent(
        { type: 'task.retried', runId: task.runId, taskId, data: { previousStatus: task.status } },
        now,
      );
      return retried;
    });
  }

  async setTaskPriority(taskId: string, priority: number): Promise<Task> {
    return this.#write(() => {
      const task = this.#requireTask(taskId);
      if (task.status === 'completed') {
        throw invalidTaskTransition(
          taskId,
          task.status,
          'reprioritize',
          'priority only matters for tasks still to run',
        );
      }
      const now = this.#clock.now();
      const updated = this.#update(
        'UPDATE tasks SET priority = ?, updated_at = ? WHERE id = ? RETURNING *',
        priority,
        now,
        taskId,
      );
      this.#appendEvent(
        {
          type: 'task.reprioritized',
          runId: task.runId,
          taskId,
          data: { previousPriority: task.priority, priority },
        },
        now,
      );
      return updated;
    });
  }

  async getTask(taskId: string): Promise<Task | null> {
    return this.#guard(() => this.#taskRow(taskId));
  }

  async listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    return this.#guard(() => this.#listTasks(filter));
  }

  #listTasks(filter: TaskFilter): Task[] {
    const conditions: string[] = [];
    const parameters: SQLInputValue[] = [];
    if (filter.statuses !== undefined) {
      if (filter.statuses.length === 0) return [];
      conditions.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
      parameters.push(...filter.statuses);
    }
    if (filter.type !== undefined) {
      conditions.push('type = ?');
      parameters.push(filter.type);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const limit = filter.limit === undefined ? '' : `LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    return this.#statement(`SELECT * FROM tasks ${where} ORDER BY seq ${limit}`)
      .all(...parameters)
      .map(rowToTask);
  }

  async countTasks(): Promise<TaskCounts> {
    return this.#guard(() => this.#countTasks());
  }

  #countTasks(): TaskCounts {
    const counts = emptyTaskCounts();
    for (const row of this.#statement('SELECT status, COUNT(*) AS count FROM tasks GROUP BY status').all()) {
      counts[String(row.status) as TaskStatus] = Number(row.count);
    }
    return counts;
  }

  async appendEvent(event: NewEvent): Promise<LokiEvent> {
    return this.#write(() => this.#appendEvent(event, this.#clock.now()));
  }

  async listEvents(filter: EventFilter = {}): Promise<LokiEvent[]> {
    if (filter.types?.length === 0) return [];
    const parameters: SQLInputValue[] = [filter.afterSequence ?? 0];
    let sql = 'SELECT * FROM events WHERE sequence > ?';
    if (filter.taskId !== undefined) {
      sql += ' AND task_id = ?';
      parameters.push(filter.taskId);
    }
    if (filter.runId !== undefined) {
      sql += ' AND run_id = ?';
      parameters.push(filter.runId);
    }
    if (filter.types !== undefined) {
      sql += ` AND type IN (${filter.types.map(() => '?').join(', ')})`;
      parameters.push(...filter.types);
    }
    sql += ' ORDER BY sequence';
    if (filter.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    return this.#guard(() =>
      this.#statement(sql)
        .all(...parameters)
        .map(rowToEvent),
    );
  }

  onEventsAppended(listener: EventsAppendedListener): () => void {
    return this.#appendedListeners.add(listener);
  }

  async createRun(run: NewRun): Promise<Run> {
    return this.#write(() => {
      const now = this.#clock.now();
      const row = this.#statement(
        `INSERT INTO runs (id, status, phase, prd_path, settings, started_at, updated_at)
         VALUES (?, 'running', ?, ?, ?, ?, ?)
         RETURNING *`,
      ).get(
        run.id,
        run.phase,
        run.prdPath,
        run.settings === undefined ? null : JSON.stringify(run.settings.settings),
        now,
        now,
      );
      if (row === undefined) throw new Error('run insert returned no row');
      this.#appendEvent(
        { type: 'run.started', runId: run.id, taskId: null, data: { prdPath: run.prdPath, resumed: false } },
        now,
      );
      if (run.settings !== undefined) this.#appendSettingsEvent(run.id, run.settings, now);
      this.#appendEvent(
        { type: 'phase.entered', runId: run.id, taskId: null, data: { phase: run.phase } },
        now,
      );
      return rowToRun(row);
    });
  }

  async updateRun(runId: string, changes: RunChanges): Promise<Run> {
    return this.#write(() => {
      const now = this.#clock.now();
      const current = this.#statement('SELECT * FROM runs WHERE id = ?').get(runId);
      if (current === undefined) throw new Error(`no run with id "${runId}"`);
      const before = rowToRun(current);
      const phase = changes.phase ?? before.phase;
      const status = nextRunStatus(before.status, changes);
      const control = changes.control ?? before.control;
      const endedAt = isFinalRunStatus(status) ? (before.endedAt ?? now) : null;
      const settings = changes.settings === undefined ? undefined : JSON.stringify(changes.settings.settings);
      const row = this.#statement(
        `UPDATE runs SET phase = ?, status = ?, control = ?, ended_at = ?, updated_at = ?,
           settings = COALESCE(?, settings)
         WHERE id = ? RETURNING *`,
      ).get(phase, status, control, endedAt, now, settings ?? null, runId);
      if (row === undefined) throw new Error(`run update matched no row: ${runId}`);
      if (control !== before.control) {
        this.#appendEvent(
          { type: 'run.continued', runId, taskId: null, data: { requestedBy: 'resume' } },
          now,
        );
      }
      if (changes.resume === true) {
        const data = { prdPath: before.prdPath, resumed: true };
        this.#appendEvent({ type: 'run.started', runId, taskId: null, data }, now);
      }
      if (changes.settings !== undefined) this.#appendSettingsEvent(runId, changes.settings, now);
      if (phase !== before.phase) {
        this.#appendEvent({ type: 'phase.entered', runId, taskId: null, data: { phase } }, now);
      }
      if (status !== before.status && isFinalRunStatus(status)) {
        const outcome = changes.ending?.outcome ?? status;
        const data = { status, outcome, exitCode: changes.ending?.exitCode ?? null };
        this.#appendEvent({ type: 'run.ended', runId, taskId: null, data }, now);
      }
      return rowToRun(row);
    });
  }

  #appendSettingsEvent(runId: string, recorded: RunSettingsRecordedData, now: number): void {
    this.#appendEvent(
      {
        type: 'run.settings_recorded',
        runId,
        taskId: null,
        data: { settings: recorded.settings, given: [...recorded.given] },
      },
      now,
    );
  }

  async getRun(runId: string): Promise<Run | null> {
    return this.#guard(() => {
      const row = this.#statement('SELECT * FROM runs WHERE id = ?').get(runId);
      return row === undefined ? null : rowToRun(row);
    });
  }

  async requestRunControl(runId: string, request: RunControlRequest): Promise<RunControlOutcome> {
    return this.#write(() => {
      const current = this.#statement('SELECT * FROM runs WHERE id = ?').get(runId);
      if (current === undefined) throw runNotFound(runId);
      const before = rowToRun(current);
      const control = decideRunControl(before, request.action);
      if (control === before.control) return { run: before, isChanged: false };
      const now = this.#clock.now();
      const row = this.#statement('UPDATE runs SET control = ?, updated_at = ? WHERE id = ? RETURNING *').get(
        control,
        now,
        runId,
      );
      if (row === undefined) throw new Error(`run update matched no row: ${runId}`);
      this.#appendEvent(
        {
          type: RUN_CONTROL_EVENTS[request.action],
          runId,
          taskId: null,
          data: { requestedBy: request.requestedBy },
        },
        now,
      );
      return { run: rowToRun(row), isChanged: true };
    });
  }

  async getLatestRun(): Promise<Run | null> {
    return this.#guard(() => this.#latestRun());
  }

  #latestRun(): Run | null {
    const row = this.#statement('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1').get();
    return row === undefined ? null : rowToRun(row);
  }

  async loadBreaker(name: string): Promise<BreakerSnapshot | null> {
    const row = this.#statement('SELECT * FROM circuit_breakers WHERE name = ?').get(name);
    return row === undefined ? null : rowToBreaker(row);
  }

  async saveBreaker(snapshot: BreakerSnapshot, changed: boolean): Promise<void> {
    this.#write(() => this.#upsertBreaker(snapshot, changed));
  }

  #upsertBreaker(snapshot: BreakerSnapshot, changed: boolean): void {
    this.#statement(
      `INSERT INTO circuit_breakers (name, state, consecutive_failures, half_open_successes, opened_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET state = excluded.state,
         consecutive_failures = excluded.consecutive_failures,
         half_open_successes = excluded.half_open_successes,
         opened_at = excluded.opened_at, updated_at = excluded.updated_at`,
    ).run(
      snapshot.name,
      snapshot.state,
      snapshot.consecutiveFailures,
      snapshot.halfOpenSuccesses,
      snapshot.openedAt,
      snapshot.updatedAt,
    );
    if (changed) {
      this.#appendEvent(
        {
          type: 'breaker.changed',
          runId: null,
          taskId: null,
          data: {
            breaker: snapshot.name,
            state: snapshot.state,
            consecutiveFailures: snapshot.consecutiveFailures,
          },
        },
        this.#clock.now(),
      );
    }
  }

  async updateBreaker(name: string, transition: BreakerTransition): Promise<BreakerSnapshot | null> {
    return this.#write(() => {
      const row = this.#statement('SELECT * FROM circuit_breakers WHERE name = ?').get(name);
      const current = row === undefined ? null : rowToBreaker(row);
      const decided = transition(current);
      if (decided === null) return current;
      this.#upsertBreaker(decided.next, decided.changed);
      return decided.next;
    });
  }

  async listBreakers(): Promise<BreakerSnapshot[]> {
    return this.#statement('SELECT * FROM circuit_breakers ORDER BY name').all().map(rowToBreaker);
  }

  async recordWorkerHeartbeat(heartbeat: WorkerHeartbeat): Promise<WorkerRecord> {
    return this.#write(() => workers.recordHeartbeat(this.#workerAccess(), heartbeat));
  }

  async markWorkerStopped(workerId: string): Promise<WorkerRecord | null> {
    return this.#write(() => workers.markStopped(this.#workerAccess(), workerId));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#read(() => workers.listWorkers((sql) => this.#statement(sql)));
  }

  #workerAccess(): workers.SqliteWorkerAccess {
    const now = this.#clock.now();
    return {
      statement: (sql) => this.#statement(sql),
      appendEvent: (event) => this.#appendEvent(event, now),
      now,
    };
  }

  async readSummary(): Promise<StoreSummary> {
    return this.#read(() => this.#summary());
  }

  async readSnapshot(): Promise<StoreSnapshot> {
    return this.#read(() => ({ ...this.#summary(), tasks: this.#listTasks({}) }));
  }

  #summary(): StoreSummary {
    {
      const lastEvent = this.#statement(
        'SELECT sequence, created_at FROM events ORDER BY sequence DESC LIMIT 1',
      ).get();
      return {
        trippedBreakers: this.#statement(
          "SELECT * FROM circuit_breakers WHERE state <> 'closed' ORDER BY name",
        )
          .all()
          .map(rowToBreaker),
        counts: this.#countTasks(),
        latestRun: this.#latestRun(),
        activeWorkers: this.#statement(
          "SELECT DISTINCT claimed_by FROM tasks WHERE status = 'in_progress' AND claimed_by IS NOT NULL ORDER BY claimed_by",
        )
          .all()
          .map((row) => String(row.claimed_by)),
        lastEventSequence: lastEvent === undefined ? 0 : Number(lastEvent.sequence),
        lastEventAt: lastEvent === undefined ? null : Number(lastEvent.created_at),
      };
    }
  }

  /**
   * Writes a consistent copy of the database to `path` (SQLite's online backup: the store stays in
   * use meanwhile). The copy is complete when the promise resolves.
   */
  async backUpTo(path: string): Promise<void> {
    try {
      await backUpSqliteDatabase(this.#database, path);
    } catch (error) {
      throw this.#fault(error);
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#statements.clear();
    this.#database.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

const RUN_CONTROL_EVENTS = {
  stop: 'run.stop_requested',
  pause: 'run.paused',
  continue: 'run.continued',
} as const satisfies Record<RunControlAction, string>;

/** Expired leases found while claiming go straight back to pending; no backoff applies to them. */
const IMMEDIATE_RETRY: RetryPolicy = { backoffSeconds: () => 0 };
