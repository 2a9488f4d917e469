import { isLokiError, LokiError } from '../../errors/index.ts';
import { removeTaskWorktree, type TaskWorktree } from '../../git/index.ts';
import type { Task } from '../../store/index.ts';
import { CancelWatch } from '../cancel-watch.ts';
import type { TaskWorkerContext } from '../task-worker.ts';

/**
 * One worker's hold on one claimed task while it works on it: the lease kept alive by heartbeats,
 * a watch for a cancel from anywhere, the task's worktree, and the task's own signal, aborted when
 * the run stops, the task is cancelled or the lease is lost (its lease expired and another worker
 * took the task). Invariant: a worker that lost the lease never merges. Disposing it stops the
 * heartbeats and removes the worktree (the branch `loki/<task-id>` keeps its checkpoint).
 */
export class TaskClaim implements AsyncDisposable {
  readonly task: Task;
  readonly workerId: string;
  /** The run's context, with the task's own signal. */
  readonly context: TaskWorkerContext;
  /** The run's own signal: aborted on a graceful stop of the whole run. */
  readonly runSignal: AbortSignal;
  /** The task's worktree, once the worktree step made it. */
  worktree: TaskWorktree | null = null;
  /** Set while the worktree is still being created as the agent starts: waited for before removal. */
  pendingWorktree: { ready: Promise<unknown>; files: readonly string[] } | undefined;
  readonly #lease = new AbortController();
  readonly #cancelWatch: CancelWatch;
  readonly #heartbeat: NodeJS.Timeout;
  /** The lease each heartbeat renews (config leaseSeconds): how soon a dead worker's task returns. */
  readonly #leaseSeconds: number;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(task: Task, workerId: string, runContext: TaskWorkerContext) {
    this.task = task;
    this.workerId = workerId;
    this.runSignal = runContext.signal;
    this.#leaseSeconds = runContext.config.leaseSeconds;
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(1000, (this.#leaseSeconds * 1000) / 3));
    this.#heartbeat.unref();
    // A cancel from anywhere stops this task's agent, verification and merge within about a second.
    this.#cancelWatch = new CancelWatch({
      queue: runContext.workspace.queue,
      taskId: task.id,
      runSignal: runContext.signal,
    });
    this.context = { ...runContext, signal: AbortSignal.any([this.#cancelWatch.signal, this.#lease.signal]) };
  }

  /** True once the task was seen cancelled: nothing of it may reach main, and the queue is not touched. */
  get isCancelled(): boolean {
    return this.#cancelWatch.isCancelled;
  }

  /** Why the lease was lost, once a heartbeat found it so; null while this worker holds it. */
  get lostLease(): { reason: unknown } | null {
    return this.#lease.signal.aborted ? { reason: this.#lease.signal.reason as unknown } : null;
  }

  /** The task's worktree: the worktree step runs before every step that needs it. */
  requireWorktree(): TaskWorktree {
    if (this.worktree !== null) return this.worktree;
    throw new LokiError(`task ${this.task.id} has no worktree yet: a step ran before the worktree step`, {
      code: 'TASK_STEP_ORDER',
      category: 'internal',
    });
  }

  /** Renews the lease now (before a step that must not run on a lost one); TASK_LEASE_LOST when lost. */
  async renewLease(): Promise<void> {
    await this.context.workspace.queue.heartbeat(this.task.id, this.workerId, this.#leaseSeconds);
  }

  /** Resolves once the heartbeats written so far are done: this task's writes go to the store in order. */
  settled(): Promise<unknown> {
    return this.#writes;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#cancelWatch[Symbol.dispose]();
    await this.pendingWorktree?.ready.catch(() => undefined);
    if (this.worktree !== null) await removeTaskWorktree(this.worktree);
  }

  #beat(): void {
    this.#writes = this.#writes.then(() =>
      this.context.workspace.queue.heartbeat(this.task.id, this.workerId, this.#leaseSeconds).then(
        () => undefined,
        (error: unknown) => {
          if (isLeaseLost(error)) {
            this.#lease.abort(error);
            return;
          }
          // Any other failure is reported and the next beat tries again; if the store stays
          // unreachable the lease runs out and the next beat finds it lost.
          this.context.emit({
            type: 'agent.error',
            runId: this.context.runId,
            taskId: this.task.id,
            data: {
              code: 'TASK_HEARTBEAT_FAILED',
              category: 'internal',
              message: `the lease of ${this.task.id} could not be extended: ${describeError(error)}`,
            },
          });
        },
      ),
    );
  }
}

export function isLeaseLost(error: unknown): boolean {
  return isLokiError(error) && error.code === 'TASK_LEASE_LOST';
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
