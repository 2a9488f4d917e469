import type { RunControlState, Store } from '../store/index.ts';

/**
 * How often a live run reads its control state. A request is acted on within this interval plus
 * one read (a primary-key lookup, well under a millisecond in SQLite): inside the one second that
 * DESIGN.md §3 promises, at a cost too small to measure.
 */
export const RUN_CONTROL_POLL_MILLISECONDS = 250;

export interface RunControlWatchOptions {
  store: Pick<Store, 'getRun' | 'updateRun'>;
  runId: string;
  /** Called once, when a stop request is first seen: the run stops exactly as on a first Ctrl-C. */
  onStop: () => void;
  pollMilliseconds?: number;
}

/**
 * The live run's side of control through the store: the run's row is read every 250 ms, so a
 * request written by any process (`loki stop|pause|continue` in another terminal, the dashboard,
 * another machine sharing the store) is acted on within a second. A stop calls `onStop`; a pause
 * makes `isPaused` true until a continue, and the scheduler claims nothing meanwhile.
 */
export class RunControlWatch implements Disposable {
  readonly #options: RunControlWatchOptions;
  readonly #timer: NodeJS.Timeout;
  #control: RunControlState = 'none';
  #hasStopped = false;
  #isPolling = false;

  /**
   * Starts watching. Call it once the run lock is held: no other session of the run lives then, so
   * a request still on the run's row was left by a session that has ended (killed, or forced out by
   * a second Ctrl-C). It is cleared first (`run.continued` by `resume`) instead of stopping or
   * pausing this new session. A new run whose row does not exist yet simply has no request.
   */
  static async start(options: RunControlWatchOptions): Promise<RunControlWatch> {
    const run = await options.store.getRun(options.runId);
    if (run !== null && run.control !== 'none') {
      await options.store.updateRun(options.runId, { control: 'none' });
    }
    return new RunControlWatch(options);
  }

  private constructor(options: RunControlWatchOptions) {
    this.#options = options;
    this.#timer = setInterval(
      () => void this.#poll(),
      options.pollMilliseconds ?? RUN_CONTROL_POLL_MILLISECONDS,
    );
    this.#timer.unref();
  }

  /** True while a pause is in force: no new task may start. */
  get isPaused(): boolean {
    return this.#control === 'pause';
  }

  async #poll(): Promise<void> {
    if (this.#isPolling) return;
    this.#isPolling = true;
    try {
      const run = await this.#options.store.getRun(this.#options.runId);
      if (run === null) return;
      this.#control = run.control;
      if (run.control === 'stop' && !this.#hasStopped) {
        this.#hasStopped = true;
        this.#options.onStop();
      }
    } catch {
      // A read that fails (the database busy past its timeout) is tried again at the next tick; a
      // store that stays broken fails the run's own writes loudly.
    } finally {
      this.#isPolling = false;
    }
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}
