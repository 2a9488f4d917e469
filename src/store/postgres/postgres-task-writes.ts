/**
 * The task transitions that several store methods share, each inside a PostgresTransaction. They
 * mirror the SQLite adapter's; what differs is locking: a transition first locks the rows it
 * changes (FOR UPDATE), and a claim skips rows another transaction holds (SKIP LOCKED).
 */
import { rowToTask } from '../sqlite/sqlite-rows.ts';
import type { ClaimRequest, RetryPolicy } from '../store.ts';
import { duplicateIdempotencyKey, duplicateTaskId, unknownDependency } from '../store-errors.ts';
import type { NewTask, Task, TaskStatus } from '../task-record.ts';
import { lapseOpenReservations } from './postgres-budget-ledger.ts';
import { claimUpdateSql } from './postgres-claim-sql.ts';
import type { PostgresTransaction } from './postgres-transaction.ts';

/** Validates and inserts a batch with its `task.enqueued` events. */
export async function insertTasks(tx: PostgresTransaction, tasks: readonly NewTask[]): Promise<Task[]> {
  const batchIds = new Set<string>();
  const batchKeys = new Map<string, string>();
  const stored = new Set(
    (await tx.rows('SELECT id FROM tasks WHERE id = ANY($1::text[])', [tasks.map((task) => task.id)])).map(
      (row) => String(row.id),
    ),
  );
  for (const task of tasks) {
    if (batchIds.has(task.id) || stored.has(task.id)) throw duplicateTaskId(task.id);
    batchIds.add(task.id);
    if (task.idempotencyKey === null) continue;
    const earlier = batchKeys.get(task.idempotencyKey);
    if (earlier !== undefined) throw duplicateIdempotencyKey(task.idempotencyKey, earlier);
    const existing = await tx.row('SELECT id FROM tasks WHERE idempotency_key = $1', [task.idempotencyKey]);
    if (existing !== null) throw duplicateIdempotencyKey(task.idempotencyKey, String(existing.id));
    batchKeys.set(task.idempotencyKey, task.id);
  }
  const dependencyIds = [...new Set(tasks.flatMap((task) => task.dependencies))];
  const storedDependencies = new Set(
    (await tx.rows('SELECT id FROM tasks WHERE id = ANY($1::text[])', [dependencyIds])).map((row) =>
      String(row.id),
    ),
  );
  const inserted: Task[] = [];
  for (const task of tasks) {
    for (const dependencyId of task.dependencies) {
      if (!batchIds.has(dependencyId) && !storedDependencies.has(dependencyId)) {
        throw unknownDependency(task.id, dependencyId);
      }
      await tx.rows('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)', [
        task.id,
        dependencyId,
      ]);
    }
    inserted.push(
      await tx.taskUpdate(
        `INSERT INTO tasks (id, type, title, description, priority, dependencies, payload, idempotency_key,
           run_id, status, timeout_seconds, max_attempts, available_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12, $12, $12) RETURNING *`,
        [
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
          tx.now,
        ],
      ),
    );
    tx.appendEvent({
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
    });
  }
  return inserted;
}

/**
 * Takes the first ready task in claim order that no other transaction holds. FOR UPDATE SKIP LOCKED:
 * concurrent claimers never wait on each other's candidate, and the row lock makes the server
 * re-check the status on the newest row version, so a task taken and committed meanwhile is passed
 * over rather than handed out twice.
 */
export async function claimTask(tx: PostgresTransaction, request: ClaimRequest): Promise<Task | null> {
  await reclaimExpired(tx, IMMEDIATE_RETRY);
  const parameters: unknown[] = [request.workerId, tx.now, request.leaseMilliseconds ?? null];
  let filter = '';
  if (request.types !== undefined && request.types.length > 0) {
    parameters.push([...request.types]);
    filter += ` AND t.type = ANY($${parameters.length}::text[])`;
  }
  if (request.taskId !== undefined) {
    parameters.push(request.taskId);
    filter += ` AND t.id = $${parameters.length}`;
  }
  const row = await tx.row(
    claimUpdateSql({ workerId: '$1', now: '$2', leaseMilliseconds: '$3', filter }),
    parameters,
  );
  if (row === null) return null;
  const task = rowToTask(row);
  tx.appendEvent({
    type: 'task.claimed',
    runId: task.runId,
    taskId: task.id,
    data: {
      workerId: request.workerId,
      attempt: task.attemptCount,
      leaseExpiresAt: task.leaseExpiresAt ?? tx.now,
    },
  });
  return task;
}

/** Expired leases back to the queue; those another transaction is working on are left to it. */
export async function reclaimExpired(tx: PostgresTransaction, policy: RetryPolicy): Promise<Task[]> {
  const expired = (
    await tx.rows(
      `SELECT * FROM tasks WHERE status = 'in_progress' AND lease_expires_at <= $1
       ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED`,
      [tx.now],
    )
  ).map(rowToTask);
  const reclaimed: Task[] = [];
  for (const task of expired) {
    reclaimed.push(await recordFailure(tx, task, 'claim_timeout', policy, 'lease_expired'));
  }
  // A worker whose lease ran out may be dead: the money its calls still hold goes back with its task.
  await lapseOpenReservations(
    tx,
    expired.map((task) => task.id),
  );
  return reclaimed;
}

/**
 * One failed attempt of a locked task. At maxAttempts it goes to dead letter; otherwise it waits out
 * its backoff (`failed`) or, for an expired lease, returns straight to `pending`.
 */
export async function recordFailure(
  tx: PostgresTransaction,
  task: Task,
  error: string,
  policy: RetryPolicy,
  outcome: 'failed' | 'lease_expired',
): Promise<Task> {
  const failureCount = task.failureCount + 1;
  const workerId = task.claimedBy;
  if (failureCount >= task.maxAttempts) {
    const deadLettered = await tx.taskUpdate(
      `UPDATE tasks SET status = 'dead_letter', failure_count = $1, last_error = $2, claimed_by = NULL,
         claimed_at = NULL, lease_expires_at = NULL, updated_at = $3
       WHERE id = $4 RETURNING *`,
      [failureCount, error, tx.now, task.id],
    );
    tx.appendEvent({
      type: 'task.dead_lettered',
      runId: task.runId,
      taskId: task.id,
      data: { workerId, error, failureCount },
    });
    return deadLettered;
  }
  const backoffSeconds = outcome === 'failed' ? policy.backoffSeconds(failureCount) : 0;
  const availableAt = tx.now + Math.round(backoffSeconds * 1000);
  const status: TaskStatus = outcome === 'failed' ? 'failed' : 'pending';
  const updated = await tx.taskUpdate(
    `UPDATE tasks SET status = $1, failure_count = $2, backoff_seconds = $3, available_at = $4, last_error = $5,
       claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, updated_at = $6
     WHERE id = $7 RETURNING *`,
    [status, failureCount, backoffSeconds, availableAt, error, tx.now, task.id],
  );
  if (outcome === 'failed') {
    tx.appendEvent({
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
    });
  } else {
    tx.appendEvent({
      type: 'task.lease_expired',
      runId: task.runId,
      taskId: task.id,
      data: { workerId, reason: 'claim_timeout', failureCount },
    });
  }
  return updated;
}

/** Back to the queue, claimable from `availableAt`, without counting a failure. */
export async function returnToPending(
  tx: PostgresTransaction,
  task: Task,
  dependencies: readonly string[],
  availableAt = tx.now,
): Promise<Task> {
  return tx.taskUpdate(
    `UPDATE tasks SET status = 'pending', dependencies = $1, available_at = $2, claimed_by = NULL,
       claimed_at = NULL, lease_expires_at = NULL, updated_at = $3
     WHERE id = $4 RETURNING *`,
    [JSON.stringify(dependencies), availableAt, tx.now, task.id],
  );
}

/** The cancel transition of one locked task with its event. */
export async function cancelOne(tx: PostgresTransaction, task: Task, reason: string | null): Promise<Task> {
  // The event first: an invalid reason must fail before the row takes it.
  tx.appendEvent({
    type: 'task.cancelled',
    runId: task.runId,
    taskId: task.id,
    data: { previousStatus: task.status, reason },
  });
  return tx.taskUpdate(
    `UPDATE tasks SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL,
       last_error = COALESCE($1, last_error), updated_at = $2
     WHERE id = $3 RETURNING *`,
    [reason, tx.now, task.id],
  );
}

/** Expired leases found while claiming go straight back to pending; no backoff applies to them. */
const IMMEDIATE_RETRY: RetryPolicy = { backoffSeconds: () => 0 };
