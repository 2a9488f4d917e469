import pg from 'pg';
import type { Clock } from '../../clock/index.ts';
import { systemClock } from '../../clock/index.ts';
import type { LokiEvent, NewEvent } from '../../events/index.ts';
import type { BreakerSnapshot, BreakerTransition } from '../breaker-record.ts';
import { type EventsAppendedListener, EventsAppendedNotifier } from '../events-appended-notifier.ts';
import type { StoreRedactor } from '../sqlite/sqlite-store.ts';
import { rowToBreaker, rowToEvent, rowToRun, rowToTask } from '../sqlite/sqlite-rows.ts';
import type {
  CancelledTasks,
  SharedBudgetLedger,
  ClaimRequest,
  EventFilter,
  NewRun,
  RetryPolicy,
  Run,
  RunChanges,
  RunControlOutcome,
  RunControlRequest,
  Store,
  StoreSnapshot,
  StoreSummary,
  TaskFilter,
} from '../store.ts';
import { deferralCycle, invalidTaskTransition, taskLeaseLost, taskNotFound } from '../store-errors.ts';
import {
  emptyTaskCounts,
  type NewTask,
  type Task,
  type TaskCounts,
  type TaskStatus,
} from '../task-record.ts';
import { lapseOpenReservations, openPostgresBudgetLedger } from './postgres-budget-ledger.ts';
import { classifyPostgresError, isRetryablePostgresError } from './postgres-faults.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { type EventsCommittedListener, PostgresNotifications } from './postgres-notifications.ts';
import * as oneStatement from './postgres-one-statement.ts';
import * as runs from './postgres-run-writes.ts';
import * as tasks from './postgres-task-writes.ts';
import * as workers from './postgres-worker-writes.ts';
import type { WorkerHeartbeat, WorkerRecord } from '../worker-record.ts';
import { PostgresTransaction } from './postgres-transaction.ts';
import { parsePostgresUrl, redactPostgresUrl } from './postgres-url.ts';

export interface PostgresStoreOptions {
  clock?: Clock;
  /** Replaces secrets in what is written: event payloads, task errors and results. */
  redactor?: StoreRedactor;
  /** Connections this process keeps open at most (default 10). */
  poolSize?: number;
  /** Told of failures nobody awaits (an idle pooled connection, the LISTEN connection, dropped). */
  onBackgroundError?: (error: unknown) => void;
}

/**
 * First keys of the transaction- and session-level advisory locks this database's users take, so
 * that they never collide. The merge coordinator's lock (one node merges) is meant to take 3.
 */
export const ADVISORY_NAMESPACES = { migrations: 1, breakers: 2, mergeCoordinator: 3 } as const;

/** How often a transaction that hit a deadlock or a concurrent duplicate is run again. */
const MAX_ATTEMPTS = 5;

/** bigint columns (epoch milliseconds, sequences) as numbers: they stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * The multi-machine store: PostgreSQL through a connection pool, for any number of processes on
 * any number of machines (DESIGN.md §3).
 *
 * Invariants:
 * - Every method that changes state is one READ COMMITTED transaction that locks the rows it
 *   changes (FOR UPDATE; a claim skips locked candidates) and appends its events in it. The hot
 *   claim and complete are each a lone statement, its own transaction (postgres-one-statement.ts).
 * - Event sequences come from the one-row event_counter, taken as the transaction's last step and
 *   held to COMMIT (postgres-transaction.ts): events become visible in sequence order with no
 *   gap, from any connection. A plain serial would not do: a transaction can draw n+1 and commit
 *   before the one that drew n, and a reader tailing "after n" would skip n for good.
 * - A deadlock, or a duplicate id inserted concurrently, runs the whole transaction again (the
 *   re-run then reports the duplicate as the SQLite adapter does); method bodies are re-runnable.
 * - Listeners of this object hear of events after COMMIT; `onEventsCommitted` hears of everyone's.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #clock: Clock;
  readonly #redactor: StoreRedactor | null;
  readonly #appendedListeners = new EventsAppendedNotifier();
  readonly #notifications: PostgresNotifications;
  #isClosed = false;

  private constructor(connectionString: string, options: PostgresStoreOptions) {
    this.location = redactPostgresUrl(connectionString);
    this.#clock = options.clock ?? systemClock;
    this.#redactor = options.redactor ?? null;
    const onBackgroundError =
      options.onBackgroundError ??
      ((error: unknown) => {
        process.emitWarning(
          `PostgreSQL store ${this.location}: ${String(classifyPostgresError(error, this.location))}`,
        );
      });
    this.#pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10, types: TYPES });
    // An idle connection the server drops is replaced by the pool; it must not crash the process.
    this.#pool.on('error', onBackgroundError);
    this.#notifications = new PostgresNotifications({
      connectionString,
      onConnectionError: onBackgroundError,
    });
  }

  /** Connects, checks the server is reachable, and applies pending migrations. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(parsePostgresUrl(url), options);
    try {
      await store.#migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  async #migrate(): Promise<void> {
    await this.#transaction(async (tx) => {
      // Held to the end of this transaction: processes opening the store at once migrate one by one.
      await tx.rows('SELECT pg_advisory_xact_lock($1, 0)', [ADVISORY_NAMESPACES.migrations]);
      await tx.rows(
        'CREATE TABLE IF NOT EXISTS loki_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
      );
      const applied = new Set(
        (await tx.rows('SELECT version FROM loki_schema_migrations')).map((row) => Number(row.version)),
      );
      for (const migration of POSTGRES_MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await tx.client.query(migration.sql);
        await tx.rows('INSERT INTO loki_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          tx.now,
        ]);
      }
    });
  }

  /**
   * Runs `body` in one transaction on one pooled connection, again on a deadlock or a concurrent
   * duplicate; announces its events to this object's listeners once committed.
   */
  async #transaction<T>(body: (tx: PostgresTransaction) => Promise<T>, isolation = ''): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw classifyPostgresError(error, this.location);
      }
      let broken: Error | undefined;
      try {
        await client.query(`BEGIN${isolation}`);
        const tx = new PostgresTransaction(client, this.#clock.now(), this.#redactor);
        const result = await body(tx);
        const appended = await tx.commit();
        this.#appendedListeners.notify(appended);
        return result;
      } catch (error) {
        broken = await rollBack(client, error);
        const isDuplicate = (error as { code?: unknown }).code === '23505';
        if ((isRetryablePostgresError(error) || isDuplicate) && attempt < MAX_ATTEMPTS) continue;
        throw classifyPostgresError(error, this.location);
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Runs a transition that is one statement, a transaction of its own (postgres-one-statement.ts),
   * again on a deadlock; announces its events to this object's listeners once committed.
   */
  async #oneStatement<T>(
    body: (run: oneStatement.RunStatement, now: number) => Promise<oneStatement.Committed<T>>,
  ): Promise<T> {
    const run: oneStatement.RunStatement = async (statement) =>
      (await this.#pool.query(statement)).rows as Row[];
    for (let attempt = 1; ; attempt += 1) {
      try {
        const committed = await body(run, this.#clock.now());
        this.#appendedListeners.notify(committed.events);
        return committed.result;
      } catch (error) {
        if (isRetryablePostgresError(error) && attempt < MAX_ATTEMPTS) continue;
        throw classifyPostgresError(error, this.location);
      }
    }
  }

  #read<T>(body: (tx: PostgresTransaction) => Promise<T>): Promise<T> {
    // One snapshot for every statement: the counts, the tasks and the last event agree.
    return this.#transaction(body, ' ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async insertTasks(newTasks: readonly NewTask[]): Promise<Task[]> {
    return this.#transaction((tx) => tasks.insertTasks(tx, newTasks));
  }

  async claimTask(request: ClaimRequest): Promise<Task | null> {
    const claimed = await this.#oneStatement((run, now) =>
      oneStatement.claimTask(run, request, now, this.#redactor),
    );
    if (claimed !== 'expired leases') return claimed;
    // Rare: those leases go back to the queue first, in the transaction that claims.
    return this.#transaction((tx) => tasks.claimTask(tx, request));
  }

  async extendLease(taskId: string, workerId: string, leaseMilliseconds: number): Promise<Task> {
    return this.#transaction(async (tx) => {
      await tx.requireHeldTask(taskId, workerId);
      return tx.taskUpdate(
        'UPDATE tasks SET lease_expires_at = $1, updated_at = $2 WHERE id = $3 RETURNING *',
        [tx.now + leaseMilliseconds, tx.now, taskId],
      );
    });
  }

  async completeTask(taskId: string, workerId: string, result: unknown): Promise<Task> {
    const resultJson = result === undefined ? null : JSON.stringify(this.#redact(result));
    const completed = await this.#oneStatement((run, now) =>
      oneStatement.completeTask(run, taskId, workerId, resultJson, now, this.#redactor),
    );
    if (completed !== null) return completed;
    // Changed nothing: say why from the task as it is now.
    const task = await this.getTask(taskId);
    if (task === null) throw taskNotFound(taskId);
    throw taskLeaseLost(taskId, workerId, task.claimedBy, task.status);
  }

  #redact<T>(value: T): T {
    return this.#redactor === null ? value : (this.#redactor.redactValue(value) as T);
  }

  async failTask(taskId: string, workerId: string, error: string, policy: RetryPolicy): Promise<Task> {
    return this.#transaction(async (tx) => {
      const held = await tx.requireHeldTask(taskId, workerId);
      return tasks.recordFailure(tx, held, tx.redact(error), policy, 'failed');
    });
  }

  async reclaimExpiredLeases(policy: RetryPolicy): Promise<Task[]> {
    return this.#transaction((tx) => tasks.reclaimExpired(tx, policy));
  }

  async releaseTask(
    taskId: string,
    workerId: string | null,
    reason: string,
    notBefore?: number,
  ): Promise<Task> {
    return this.#transaction(async (tx) => {
      const task =
        workerId === null ? await tx.requireTask(taskId) : await tx.requireHeldTask(taskId, workerId);
      if (task.status !== 'in_progress') return task;
      const availableAt = notBefore === undefined ? tx.now : Math.max(tx.now, Math.round(notBefore));
      const released = await tasks.returnToPending(tx, task, task.dependencies, availableAt);
      await lapseOpenReservations(tx, [taskId]);
      tx.appendEvent({
        type: 'task.released',
        runId: task.runId,
        taskId,
        data: { workerId: task.claimedBy, reason, ...(notBefore === undefined ? {} : { availableAt }) },
      });
      return released;
    });
  }

  async deferTask(
    taskId: string,
    workerId: string,
    newTasks: readonly NewTask[],
    reason: string,
  ): Promise<Task> {
    return this.#transaction(async (tx) => {
      // Checked before anything is inserted; a later throw rolls the inserts back with the rest.
      const held = await tx.requireHeldTask(taskId, workerId);
      const added = (await tasks.insertTasks(tx, newTasks)).map((task) => task.id);
      // The one place outside a batch where a cycle can form: a new task that waits, through
      // stored tasks, for the deferred one.
      const dependent = await tx.row(
        `WITH RECURSIVE reachable(origin, id) AS (
           SELECT value, value FROM unnest($1::text[]) AS value
           UNION
           SELECT reachable.origin, d.depends_on_id FROM task_dependencies d JOIN reachable ON d.task_id = reachable.id)
         SELECT origin FROM reachable WHERE id = $2 LIMIT 1`,
        [added, taskId],
      );
      if (dependent !== null) throw deferralCycle(taskId, String(dependent.origin));
      for (const dependencyId of added) {
        await tx.rows('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)', [
          taskId,
          dependencyId,
        ]);
      }
      const deferred = await tasks.returnToPending(tx, held, [...held.dependencies, ...added]);
      tx.appendEvent({
        type: 'task.deferred',
        runId: held.runId,
        taskId,
        data: { workerId, addedDependencies: added, reason },
      });
      return deferred;
    });
  }

  async cancelTask(taskId: string, reason: string | null): Promise<CancelledTasks> {
    return this.#transaction(async (tx) => {
      const task = await tx.requireTask(taskId);
      if (task.status === 'completed' || task.status === 'cancelled') {
        throw invalidTaskTransition(taskId, task.status, 'cancel', 'only unfinished tasks can be cancelled');
      }
      const cancelled = await tasks.cancelOne(tx, task, reason);
      // Whatever waits on it, directly or not, could never run: it goes with it, so no run stalls.
      const waiting = (
        await tx.rows(
          `WITH RECURSIVE dependents(id) AS (
             SELECT task_id FROM task_dependencies WHERE depends_on_id = $1
             UNION
             SELECT d.task_id FROM task_dependencies d JOIN dependents ON d.depends_on_id = dependents.id)
           SELECT t.* FROM tasks t JOIN dependents ON t.id = dependents.id
           WHERE t.status NOT IN ('completed', 'cancelled') ORDER BY t.seq FOR UPDATE OF t`,
          [taskId],
        )
      ).map(rowToTask);
      const dependents: Task[] = [];
      for (const dependent of waiting) {
        dependents.push(await tasks.cancelOne(tx, dependent, `cancelled with ${taskId}, which it waits for`));
      }
      return { task: cancelled, dependents };
    });
  }

  async retryTask(taskId: string): Promise<Task> {
    return this.#transaction(async (tx) => {
      const task = await tx.requireTask(taskId);
      if (task.status !== 'dead_letter' && task.status !== 'failed' && task.status !== 'cancelled') {
        throw invalidTaskTransition(
          taskId,
          task.status,
          'retry',
          'only dead-lettered, failed or cancelled tasks can be retried',
        );
      }
      const retried = await tx.taskUpdate(
        `UPDATE tasks SET status = 'pending', failure_count = 0, backoff_seconds = 0, available_at = $1, updated_at = $1
         WHERE id = $2 RETURNING *`,
        [tx.now, taskId],
      );
      tx.appendEvent({
        type: 'task.retried',
        runId: task.runId,
        taskId,
        data: { previousStatus: task.status },
      });
      return retried;
    });
  }

  async setTaskPriority(taskId: string, priority: number): Promise<Task> {
    return this.#transaction(async (tx) => {
      const task = await tx.requireTask(taskId);
      if (task.status === 'completed') {
        throw invalidTaskTransition(
          taskId,
          task.status,
          'reprioritize',
          'priority only matters for tasks still to run',
        );
      }
      const updated = await tx.taskUpdate(
        'UPDATE tasks SET priority = $1, updated_at = $2 WHERE id = $3 RETURNING *',
        [priority, tx.now, taskId],
      );
      tx.appendEvent({
        type: 'task.reprioritized',
        runId: task.runId,
        taskId,
        data: { previousPriority: task.priority, priority },
      });
      return updated;
    });
  }

  async getTask(taskId: string): Promise<Task | null> {
    const rows = await this.#query('SELECT * FROM tasks WHERE id = $1', [taskId]);
    return rows[0] === undefined ? null : rowToTask(rows[0]);
  }

  async listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    return (await this.#listTasks(filter, (sql, parameters) => this.#query(sql, parameters))).map(rowToTask);
  }

  async #listTasks(filter: TaskFilter, query: Query): Promise<Row[]> {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    if (filter.statuses !== undefined) {
      if (filter.statuses.length === 0) return [];
      parameters.push([...filter.statuses]);
      conditions.push(`status = ANY($${parameters.length}::text[])`);
    }
    if (filter.type !== undefined) {
      parameters.push(filter.type);
      conditions.push(`type = $${parameters.length}`);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const limit = filter.limit === undefined ? '' : `LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    return query(`SELECT * FROM tasks ${where} ORDER BY seq ${limit}`, parameters);
  }

  async countTasks(): Promise<TaskCounts> {
    return countTasks((sql, parameters) => this.#query(sql, parameters));
  }

  async appendEvent(event: NewEvent): Promise<LokiEvent> {
    return this.#transaction(async (tx) => tx.appendEvent(event));
  }

  async listEvents(filter: EventFilter = {}): Promise<LokiEvent[]> {
    if (filter.types?.length === 0) return [];
    const parameters: unknown[] = [filter.afterSequence ?? 0];
    let sql = 'SELECT * FROM events WHERE sequence > $1';
    if (filter.taskId !== undefined) {
      parameters.push(filter.taskId);
      sql += ` AND task_id = $${parameters.length}`;
    }
    if (filter.runId !== undefined) {
      parameters.push(filter.runId);
      sql += ` AND run_id = $${parameters.length}`;
    }
    if (filter.types !== undefined) {
      parameters.push([...filter.types]);
      sql += ` AND type = ANY($${parameters.length}::text[])`;
    }
    sql += ' ORDER BY sequence';
    if (filter.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    return (await this.#query(sql, parameters)).map(rowToEvent);
  }

  onEventsAppended(listener: EventsAppendedListener): () => void {
    return this.#appendedListeners.add(listener);
  }

  /**
   * Capability: hears of every transaction that appended events, from any connection, process or
   * machine (LISTEN/NOTIFY), with the last sequence it wrote. A wake-up for followers and idle
   * workers; they read the store itself for what happened.
   */
  onEventsCommitted(listener: EventsCommittedListener): () => void {
    return this.#notifications.add(listener);
  }

  async createRun(run: NewRun): Promise<Run> {
    return this.#transaction((tx) => runs.createRun(tx, run));
  }

  async updateRun(runId: string, changes: RunChanges): Promise<Run> {
    return this.#transaction((tx) => runs.updateRun(tx, runId, changes));
  }

  async getRun(runId: string): Promise<Run | null> {
    const rows = await this.#query('SELECT * FROM runs WHERE id = $1', [runId]);
    return rows[0] === undefined ? null : rowToRun(rows[0]);
  }

  async requestRunControl(runId: string, request: RunControlRequest): Promise<RunControlOutcome> {
    return this.#transaction((tx) => runs.requestRunControl(tx, runId, request));
  }

  async getLatestRun(): Promise<Run | null> {
    return latestRun((sql, parameters) => this.#query(sql, parameters));
  }

  /** Capability: the run's budget ledger in this database, shared by every worker (postgres-budget-ledger.ts). */
  async openBudgetLedger(runId: string, cap?: { capNanoUsd: number | null }): Promise<SharedBudgetLedger> {
    return openPostgresBudgetLedger((body, isolation) => this.#transaction(body, isolation), runId, cap);
  }

  async loadBreaker(name: string): Promise<BreakerSnapshot | null> {
    const rows = await this.#query('SELECT * FROM circuit_breakers WHERE name = $1', [name]);
    return rows[0] === undefined ? null : rowToBreaker(rows[0]);
  }

  async saveBreaker(snapshot: BreakerSnapshot, changed: boolean): Promise<void> {
    await this.#transaction(async (tx) => {
      await runs.lockBreaker(tx, snapshot.name, ADVISORY_NAMESPACES.breakers);
      await runs.upsertBreaker(tx, snapshot, changed);
    });
  }

  async updateBreaker(name: string, transition: BreakerTransition): Promise<BreakerSnapshot | null> {
    return this.#transaction(async (tx) => {
      await runs.lockBreaker(tx, name, ADVISORY_NAMESPACES.breakers);
      const row = await tx.row('SELECT * FROM circuit_breakers WHERE name = $1', [name]);
      const current = row === null ? null : rowToBreaker(row);
      const decided = transition(current);
      if (decided === null) return current;
      await runs.upsertBreaker(tx, decided.next, decided.changed);
      return decided.next;
    });
  }

  async listBreakers(): Promise<BreakerSnapshot[]> {
    return (await this.#query('SELECT * FROM circuit_breakers ORDER BY name')).map(rowToBreaker);
  }

  async recordWorkerHeartbeat(heartbeat: WorkerHeartbeat): Promise<WorkerRecord> {
    return this.#transaction((tx) => workers.recordHeartbeat(tx, heartbeat));
  }

  async markWorkerStopped(workerId: string): Promise<WorkerRecord | null> {
    return this.#transaction((tx) => workers.markStopped(tx, workerId));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#read((tx) => workers.listWorkers((sql, parameters) => tx.rows(sql, parameters)));
  }

  async readSummary(): Promise<StoreSummary> {
    return this.#read((tx) => summary((sql, parameters) => tx.rows(sql, parameters)));
  }

  async readSnapshot(): Promise<StoreSnapshot> {
    return this.#read(async (tx) => {
      const query: Query = (sql, parameters) => tx.rows(sql, parameters);
      return { ...(await summary(query)), tasks: (await this.#listTasks({}, query)).map(rowToTask) };
    });
  }

  /** One statement on any pooled connection, outside a transaction, its failures classified. */
  async #query(sql: string, parameters: readonly unknown[] = []): Promise<Row[]> {
    try {
      return (await this.#pool.query(sql, [...parameters])).rows as Row[];
    } catch (error) {
      throw classifyPostgresError(error, this.location);
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#notifications.close();
    await this.#pool.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

type Row = Parameters<typeof rowToTask>[0];
type Query = (sql: string, parameters?: readonly unknown[]) => Promise<Row[]>;

/**
 * Rolls back after a failed statement. Returns the error to release the connection with (the pool
 * then discards it) when the rollback itself failed: the connection is broken.
 */
async function rollBack(client: pg.PoolClient, error: unknown): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch {
    // The connection is gone (the server stopped, the network failed): `error` says what happened.
    return error instanceof Error ? error : new Error(String(error));
  }
}

async function countTasks(query: Query): Promise<TaskCounts> {
  const counts = emptyTaskCounts();
  for (const row of await query('SELECT status, COUNT(*)::integer AS count FROM tasks GROUP BY status')) {
    counts[String(row.status) as TaskStatus] = Number(row.count);
  }
  return counts;
}

async function latestRun(query: Query): Promise<Run | null> {
  const rows = await query('SELECT * FROM runs ORDER BY started_at DESC, seq DESC LIMIT 1');
  return rows[0] === undefined ? null : rowToRun(rows[0]);
}

async function summary(query: Query): Promise<StoreSummary> {
  const [lastEvent] = await query('SELECT sequence, created_at FROM events ORDER BY sequence DESC LIMIT 1');
  return {
    trippedBreakers: (
      await query("SELECT * FROM circuit_breakers WHERE state <> 'closed' ORDER BY name")
    ).map(rowToBreaker),
    counts: await countTasks(query),
    latestRun: await latestRun(query),
    activeWorkers: (
      await query(
        "SELECT DISTINCT claimed_by FROM tasks WHERE status = 'in_progress' AND claimed_by IS NOT NULL ORDER BY claimed_by",
      )
    ).map((row) => String(row.claimed_by)),
    lastEventSequence: lastEvent === undefined ? 0 : Number(lastEvent.sequence),
    lastEventAt: lastEvent === undefined ? null : Number(lastEvent.created_at),
  };
}
