import { z } from 'zod';
import { type IdFactory, type RandomSource, randomId, systemRandom } from '../clock/index.ts';
import { LokiError } from '../errors/index.ts';
import type {
  CancelledTasks,
  NewTask,
  RetryPolicy,
  Store,
  Task,
  TaskCounts,
  TaskFilter,
} from '../store/index.ts';
// By their own files: the store's barrel also loads the PostgreSQL adapter and its driver.
import { deferralCycle, taskNotFound } from '../store/store-errors.ts';
import { MAX_PRIORITY, MIN_PRIORITY } from '../store/task-record.ts';
import { type BackoffSettings, computeBackoffSeconds, DEFAULT_BACKOFF } from './backoff.ts';
import { findDependencyCycle } from './dependency-cycle.ts';

export const DEFAULT_PRIORITY = 5;
export const DEFAULT_TIMEOUT_SECONDS = 3600;
export const DEFAULT_MAX_ATTEMPTS = 3;

export interface EnqueueRequest {
  /** Defaults to a generated `task-xxxxxxxxxx`. */
  id?: string;
  /** Agent type that should run it, e.g. `eng-backend`. */
  type: string;
  title: string;
  description?: string;
  /** 1–10, 10 is critical. Default 5. */
  priority?: number;
  dependencies?: readonly string[];
  payload?: unknown;
  /** A second enqueue with the same key is rejected, so a retried planner cannot add a task twice. */
  idempotencyKey?: string;
  timeoutSeconds?: number;
  maxAttempts?: number;
  runId?: string | null;
}

const taskIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    'use letters, digits, ".", "_", ":" or "-" (starting with a letter or digit)',
  );

const enqueueRequestSchema = z.object({
  id: taskIdSchema.optional(),
  type: z.string().trim().min(1, 'a task needs an agent type, e.g. eng-backend').max(64),
  title: z.string().trim().min(1, 'a task needs a title').max(500),
  description: z.string().max(100_000).optional(),
  priority: z.unknown().optional(),
  dependencies: z.array(taskIdSchema).optional(),
  payload: z.unknown().optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
  timeoutSeconds: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  runId: z.string().nullable().optional(),
});

export interface TaskQueueOptions {
  backoff?: BackoffSettings;
  random?: RandomSource;
  idFactory?: IdFactory;
}

export interface ClaimOptions {
  workerId: string;
  /** Lease length; defaults to the task's timeout. */
  leaseSeconds?: number;
  /** Only claim tasks of these agent types. */
  types?: readonly string[];
  /** Only claim this task. */
  taskId?: string;
}

/**
 * The task lifecycle (DESIGN.md §3 "Queue semantics") on top of a Store: validation, defaults and
 * the retry policy live here; atomicity lives in the store.
 */
export class TaskQueue {
  readonly store: Store;
  readonly #retryPolicy: RetryPolicy;
  readonly #idFactory: IdFactory;

  constructor(store: Store, options: TaskQueueOptions = {}) {
    this.store = store;
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    const random = options.random ?? systemRandom;
    this.#retryPolicy = {
      backoffSeconds: (failureCount) => computeBackoffSeconds(failureCount, backoff, random),
    };
    this.#idFactory = options.idFactory ?? randomId;
  }

  async enqueue(request: EnqueueRequest): Promise<Task> {
    const [task] = await this.enqueueMany([request]);
    if (task === undefined) throw new Error('enqueueMany returned no task for one request');
    return task;
  }

  /** Enqueues a batch atomically: all of it or, on any error, none of it. */
  async enqueueMany(requests: readonly EnqueueRequest[]): Promise<Task[]> {
    return this.store.insertTasks(this.#toNewTasks(requests));
  }

  /** Validates a batch: every request, and no dependency cycle inside it. */
  #toNewTasks(requests: readonly EnqueueRequest[]): NewTask[] {
    const tasks = requests.map((request, index) =>
      this.#toNewTask(request, requests.length > 1 ? index : null),
    );
    const cycle = findDependencyCycle(tasks);
    if (cycle !== null) {
      throw new LokiError(`dependency cycle: ${cycle.join(' → ')}; remove one of these dependencies`, {
        code: 'TASK_DEPENDENCY_CYCLE',
        category: 'user',
        context: { cycle },
      });
    }
    return tasks;
  }

  #toNewTask(request: EnqueueRequest, index: number | null): NewTask {
    const where = index === null ? '' : ` (task ${index + 1} of the batch)`;
    const parsed = enqueueRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'task';
      throw new LokiError(`invalid task${where}: ${field}: ${issue?.message ?? 'invalid'}`, {
        code: 'TASK_INVALID',
        category: 'user',
        context: { field },
      });
    }
    const value = parsed.data;
    const id = value.id ?? this.#idFactory('task');
    const dependencies = [...new Set(value.dependencies ?? [])];
    if (dependencies.includes(id)) {
      throw new LokiError(`dependency cycle: task "${id}" depends on itself; remove that dependency`, {
        code: 'TASK_DEPENDENCY_CYCLE',
        category: 'user',
        context: { cycle: [id, id] },
      });
    }
    return {
      id,
      type: value.type,
      title: value.title,
      description: value.description ?? '',
      priority: validatePriority(value.priority ?? DEFAULT_PRIORITY),
      dependencies,
      payload: value.payload ?? null,
      idempotencyKey: value.idempotencyKey ?? null,
      runId: value.runId ?? null,
      timeoutSeconds: value.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      maxAttempts: value.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    };
  }

  async claim(options: ClaimOptions): Promise<Task | null> {
    return this.store.claimTask({
      workerId: options.workerId,
      ...(options.leaseSeconds === undefined ? {} : { leaseMilliseconds: options.leaseSeconds * 1000 }),
      ...(options.types === undefined ? {} : { types: options.types }),
      ...(options.taskId === undefined ? {} : { taskId: options.taskId }),
    });
  }

  /** Extends the lease (by the task's timeout unless given); throws TASK_LEASE_LOST when it was lost. */
  async heartbeat(taskId: string, workerId: string, leaseSeconds?: number): Promise<Task> {
    let seconds = leaseSeconds;
    if (seconds === undefined) {
      const task = await this.store.getTask(taskId);
      if (task === null) throw taskNotFound(taskId);
      seconds = task.timeoutSeconds;
    }
    return this.store.extendLease(taskId, workerId, seconds * 1000);
  }

  async complete(taskId: string, workerId: string, result: unknown = null): Promise<Task> {
    return this.store.completeTask(taskId, workerId, result);
  }

  async fail(taskId: string, workerId: string, error: string): Promise<Task> {
    return this.store.failTask(taskId, workerId, error, this.#retryPolicy);
  }

  /**
   * Puts an in_progress task back to pending without counting a failure: claimable at once, or from
   * `notBefore` (epoch ms) for a task that must wait (a long rate limit, an open breaker). A null
   * worker releases it from whoever holds it (a resumed run taking back its dead process's tasks).
   */
  async release(taskId: string, workerId: string | null, reason: string, notBefore?: number): Promise<Task> {
    return this.store.releaseTask(taskId, workerId, reason, notBefore);
  }

  /**
   * Enqueues `requests` and makes the held task wait for them, in one transaction, without counting
   * a failure (e.g. a merge conflict: its resolution task runs first, then the task again).
   */
  async defer(
    taskId: string,
    workerId: string,
    requests: readonly EnqueueRequest[],
    reason: string,
  ): Promise<Task> {
    const tasks = this.#toNewTasks(requests);
    const dependent = tasks.find((task) => task.dependencies.includes(taskId));
    if (dependent !== undefined) throw deferralCycle(taskId, dependent.id);
    return this.store.deferTask(taskId, workerId, tasks, reason);
  }

  async reclaimExpiredLeases(): Promise<Task[]> {
    return this.store.reclaimExpiredLeases(this.#retryPolicy);
  }

  /** Cancels the task and what waits on it (see Store.cancelTask); a running agent stops within a second. */
  async cancel(taskId: string, reason: string | null = null): Promise<CancelledTasks> {
    return this.store.cancelTask(taskId, reason);
  }

  async retry(taskId: string): Promise<Task> {
    return this.store.retryTask(taskId);
  }

  async prioritize(taskId: string, priority: number): Promise<Task> {
    return this.store.setTaskPriority(taskId, validatePriority(priority));
  }

  async get(taskId: string): Promise<Task> {
    const task = await this.store.getTask(taskId);
    if (task === null) throw taskNotFound(taskId);
    return task;
  }

  async list(filter: TaskFilter = {}): Promise<Task[]> {
    return this.store.listTasks(filter);
  }

  async counts(): Promise<TaskCounts> {
    return this.store.countTasks();
  }
}

/** Priority is a whole number from 1 (lowest) to 10 (critical). */
export function validatePriority(priority: unknown): number {
  if (
    typeof priority !== 'number' ||
    !Number.isInteger(priority) ||
    priority < MIN_PRIORITY ||
    priority > MAX_PRIORITY
  ) {
    throw new LokiError(
      `priority must be a whole number from ${MIN_PRIORITY} (lowest) to ${MAX_PRIORITY} (critical), got ${JSON.stringify(priority)}`,
      { code: 'TASK_PRIORITY_OUT_OF_RANGE', category: 'user', context: { priority } },
    );
  }
  return priority;
}
