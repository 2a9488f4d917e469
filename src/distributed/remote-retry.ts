import { type Clock, systemClock } from '../clock/index.ts';
import { LokiError } from '../errors/index.ts';
import { sleep as abortableSleep } from '../resilience/index.ts';
import {
  isTransientGitFailure,
  lockRace,
  REMOTE_GIT_UNAVAILABLE,
  redactRemoteUrl,
} from './remote-failure.ts';

export interface RemoteRetryOptions {
  remoteUrl: string;
  clock?: Clock;
  /** Waits, abortably (injected so a test can see the waits). */
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
  /** Tries of one operation, the first included (default 3). */
  attempts?: number;
  /** The wait after the first failed try; it doubles after each (default 1 s). */
  baseWaitMilliseconds?: number;
  /**
   * How long a task waits in the queue once the tries are used up (default 10 s); null where there
   * is no task to put back (the merge coordinator): the error then carries no queue wait.
   */
  requeueMilliseconds?: number | null;
  /** Told each time the tries ran out, with a line naming the remote, git's error and how often. */
  onUnavailable?: (text: string) => void;
}

/**
 * Runs the git operations of one clone against the shared remote: a transient failure (see
 * `isTransientGitFailure`) is tried again with a doubling wait; when the tries run out the error
 * thrown is REMOTE_GIT_UNAVAILABLE with `context.notBefore`, so the task waits in the queue and no
 * failure is counted against it. Any other error is thrown as it is. Failures in a row across
 * tasks are counted (reset by the next success), so an outage reads as one, not as task after
 * task failing.
 */
export class RemoteRetry {
  readonly #options: RemoteRetryOptions;
  readonly #clock: Clock;
  #failuresInRow = 0;
  #failingSince: number | null = null;

  constructor(options: RemoteRetryOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** The times in a row the tries ran out (0 after a success). */
  get failuresInRow(): number {
    return this.#failuresInRow;
  }

  async run<T>(operation: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const attempts = Math.max(1, this.#options.attempts ?? 3);
    const baseWait = this.#options.baseWaitMilliseconds ?? 1000;
    const sleep = this.#options.sleep ?? abortableSleep;
    for (let attempt = 1; ; attempt += 1) {
      signal.throwIfAborted();
      try {
        const result = await operation();
        this.#failuresInRow = 0;
        this.#failingSince = null;
        return result;
      } catch (error) {
        // Stopping is not a remote failure; neither is anything not transient (a bug, a bad ref).
        if (signal.aborted || !isTransientGitFailure(error)) throw error;
        if (attempt >= attempts) throw this.#gaveUp(error, attempts);
        await sleep(baseWait * 2 ** (attempt - 1), signal);
      }
    }
  }

  #gaveUp(last: unknown, attempts: number): LokiError {
    const { remoteUrl } = this.#options;
    const requeue =
      this.#options.requeueMilliseconds === undefined ? 10_000 : this.#options.requeueMilliseconds;
    const now = this.#clock.now();
    const cause = asRemoteFailure(last, remoteUrl);
    this.#failuresInRow += 1;
    this.#failingSince ??= now;
    const error = new LokiError(
      requeue === null
        ? `${cause.message} (${attempts} tries)`
        : `${cause.message} (${attempts} tries); the task goes back to the queue for ${Math.ceil(requeue / 1000)} s, no failure counted`,
      {
        code: REMOTE_GIT_UNAVAILABLE,
        category: cause.category,
        isRetryable: true,
        context: {
          ...cause.context,
          ...(requeue === null ? {} : { notBefore: now + requeue }),
          failuresInRow: this.#failuresInRow,
        },
        cause: last,
      },
    );
    this.#options.onUnavailable?.(
      `the run's remote ${redactRemoteUrl(remoteUrl)} failed ${this.#failuresInRow} time(s) in a row since ${new Date(this.#failingSince).toISOString()}: ${cause.message}`,
    );
    return error;
  }
}

/** What the tries ended with, as REMOTE_GIT_UNAVAILABLE (a local lock race included). */
function asRemoteFailure(error: unknown, url: string): LokiError {
  if (error instanceof LokiError && error.code === REMOTE_GIT_UNAVAILABLE) return error;
  const stderr =
    error instanceof LokiError && typeof error.context.stderr === 'string'
      ? error.context.stderr
      : String(error instanceof Error ? error.message : error);
  return lockRace(url, stderr);
}
