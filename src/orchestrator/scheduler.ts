import { setTimeout as delay } from 'node:timers/promises';
import type { Task } from '../store/index.ts';
import { type TaskWorkerContext, type TaskWorkOutcome, workOnTask } from './task-worker.ts';
import type { WorkerLimit } from './worker-limit.ts';

export interface SchedulerOptions {
  context: TaskWorkerContext;
  /** The parallelism asked for; `workerLimit` may lower it while the machine is short. */
  workerLimit: () => WorkerLimit & { changed: boolean };
  requestedWorkers: number;
  /** Prefix of the worker ids of this process, e.g. `run:<run-id>:<machine>:<pid>`. */
  workerIdPrefix: string;
  /** Only claim tasks of these agent types (`loki worker --types`); absent: any. */
  types?: readonly string[];
  /** How often an idle scheduler looks again (backoffs ending, tasks added from outside). */
  pollMilliseconds?: number;
  /**
   * True while the run is paused (`loki pause`): no task is claimed, agents at work finish theirs,
   * and an idle queue is not judged (done, blocked, stalled): the scheduler waits for a continue.
   */
  isPaused?: () => boolean;
  onOutcome?: (task: Task, outcome: TaskWorkOutcome) => void;
}

export type SchedulerResult =
  | { outcome: 'done' }
  | { outcome: 'stopped' }
  | { outcome: 'budget' }
  /** Dead-lettered tasks (and what waits on them) need a human. */
  | { outcome: 'blocked'; deadLettered: Task[]; waiting: Task[] }
  /** Nothing can run and nothing is dead-lettered: e.g. a dependency was cancelled. */
  | { outcome: 'stalled'; waiting: Task[] }
  /** A failure no task can get past (a permanent provider error): the run stops with it. */
  | { outcome: 'fatal'; error: unknown };

/**
 * Runs the run's ready tasks with up to N agents at once until every task of the run is completed
 * (or cancelled), the run is stopped, the budget is spent, or nothing more can run. Each worker is
 * one `workOnTask` on one claimed task; the queue decides what is ready (priority, dependencies,
 * backoff), the store guarantees no task is claimed twice.
 */
export async function runScheduler(options: SchedulerOptions): Promise<SchedulerResult> {
  const { context } = options;
  const { queue } = context.workspace;
  const poll = options.pollMilliseconds ?? 250;
  /** Every task this scheduler started and that has not ended (working, or waiting for its merge). */
  const active = new Map<string, Promise<void>>();
  /** The tasks whose agent is still at work: these count against the worker limit. */
  const agents = new Set<string>();
  let wake = () => {};
  let isBudgetSpent = false;
  let fatalError: { error: unknown } | null = null;
  let claims = 0;

  const start = (task: Task, workerId: string) => {
    agents.add(task.id);
    const freeAgentSlot = () => {
      if (agents.delete(task.id)) wake();
    };
    const work = workOnTask(task, workerId, context, { onAgentDone: freeAgentSlot })
      .then(
        (outcome) => {
          if (outcome === 'budget') isBudgetSpent = true;
          options.onOutcome?.(task, outcome);
        },
        (error: unknown) => {
          fatalError ??= { error };
        },
      )
      .finally(() => {
        active.delete(task.id);
        freeAgentSlot();
        wake();
      });
    active.set(task.id, work);
  };

  for (;;) {
    if (context.signal.aborted || isBudgetSpent || fatalError !== null) break;
    // Armed before looking, so a slot freed while this pass claims is not missed.
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const limit = options.workerLimit();
    if (limit.changed) {
      context.emit({
        type: 'workers.limited',
        runId: context.runId,
        taskId: null,
        data: { requested: options.requestedWorkers, limit: limit.limit, reason: limit.reason },
      });
    }
    const isPaused = options.isPaused?.() ?? false;
    while (
      !isPaused &&
      agents.size < limit.limit &&
      !context.signal.aborted &&
      !isBudgetSpent &&
      fatalError === null
    ) {
      claims += 1;
      const workerId = `${options.workerIdPrefix}:w${claims}`;
      let task: Task | null;
      try {
        task = await claimFor(options, workerId);
      } catch (error) {
        // A store that cannot be written (full, read-only, corrupt) ends the run, after the
        // tasks at work have ended.
        fatalError ??= { error };
        break;
      }
      if (task === null) break;
      start(task, workerId);
    }
    if (active.size === 0 && !isPaused) {
      const verdict = await judgeIdleQueue(context, await queue.list(), options.requestedWorkers === 0);
      if (verdict !== 'wait') return verdict;
    }
    // Until a slot frees up, a task ends, or the poll interval passes (backoffs ending).
    await Promise.race([woken, delay(poll, undefined, { signal: context.signal }).catch(() => {})]);
  }
  await Promise.all(active.values());
  if (fatalError !== null) return { outcome: 'fatal', error: (fatalError as { error: unknown }).error };
  if (isBudgetSpent) return { outcome: 'budget' };
  return { outcome: 'stopped' };
}

/** One claim of this scheduler: on its lease length and, for `loki worker --types`, of its agent types. */
function claimFor(options: SchedulerOptions, workerId: string): Promise<Task | null> {
  return options.context.workspace.queue.claim({
    workerId,
    leaseSeconds: options.context.config.leaseSeconds,
    ...(options.types === undefined ? {} : { types: options.types }),
  });
}

/**
 * With no worker busy and nothing claimable: finished, waiting for a backoff, blocked or stalled.
 * `othersWork`: this process runs no agent (`--parallel 0`), so a task ready to run waits for a
 * worker on another machine to claim it.
 */
async function judgeIdleQueue(
  context: Pick<TaskWorkerContext, 'runId' | 'clock'>,
  tasks: readonly Task[],
  othersWork: boolean,
): Promise<SchedulerResult | 'wait'> {
  const { runId } = context;
  const now = context.clock.now();
  const ours = tasks.filter((task) => task.runId === runId);
  const open = ours.filter((task) => task.status !== 'completed' && task.status !== 'cancelled');
  if (open.length === 0) return { outcome: 'done' };
  // Claimed by someone else (another worker process), or waiting out a backoff: wait for it.
  if (open.some((task) => task.status === 'in_progress')) return 'wait';
  if (othersWork) {
    const statusById = new Map(ours.map((task) => [task.id, task.status]));
    if (open.some((task) => isReady(task, statusById))) return 'wait';
  }
  if (
    open.some((task) => (task.status === 'failed' || task.status === 'pending') && task.availableAt > now)
  ) {
    return 'wait';
  }
  const deadLettered = open.filter((task) => task.status === 'dead_letter');
  const waiting = open.filter((task) => task.status !== 'dead_letter');
  if (deadLettered.length > 0) return { outcome: 'blocked', deadLettered, waiting };
  return { outcome: 'stalled', waiting };
}

/** Pending (or failed, to be retried) with every dependency completed: a worker may claim it. */
function isReady(task: Task, statusById: ReadonlyMap<string, Task['status']>): boolean {
  if (task.status !== 'pending' && task.status !== 'failed') return false;
  return task.dependencies.every((dependency) => statusById.get(dependency) === 'completed');
}
