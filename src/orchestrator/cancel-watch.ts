import { LokiError } from '../errors/index.ts';
import type { TaskQueue } from '../queue/index.ts';

const POLL_MILLISECONDS = 1_000;

/**
 * Watches one claimed task for a cancel written to the store by anyone (`loki queue cancel` from
 * another terminal, another process): the task's row is read once a second (one read by primary
 * key), and `signal` aborts when the task has been cancelled, so its agent, its verification and
 * its merge stop. `signal` also follows the run's own stop signal.
 */
export class CancelWatch implements Disposable {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #isPolling = false;

  constructor(options: {
    queue: TaskQueue;
    taskId: string;
    runSignal: AbortSignal;
    pollMilliseconds?: number;
  }) {
    this.signal = AbortSignal.any([options.runSignal, this.#controller.signal]);
    this.#timer = setInterval(() => {
      if (this.#isPolling || this.isCancelled) return;
      this.#isPolling = true;
      options.queue
        .get(options.taskId)
        .then(
          (task) => {
            if (task.status !== 'cancelled') return;
            this.#controller.abort(
              new LokiError(`task ${options.taskId} was cancelled`, {
                code: 'TASK_CANCELLED',
                category: 'user',
                context: { taskId: options.taskId },
              }),
            );
          },
          // A read that fails (the database busy past its timeout) is simply tried again at the
          // next tick; a store that stays broken fails the task's own writes loudly.
          () => undefined,
        )
        .finally(() => {
          this.#isPolling = false;
        });
    }, options.pollMilliseconds ?? POLL_MILLISECONDS);
    this.#timer.unref();
  }

  /** True once the task was seen cancelled: nothing of it may reach main, and the queue is not touched. */
  get isCancelled(): boolean {
    return this.#controller.signal.aborted;
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}
