import { EventBus, type LokiEvent } from '../events/index.ts';
import type { Workspace } from '../workspace/index.ts';
import { type RunProgress, runProgressOf } from './run-progress.ts';

/**
 * Projections (queue JSON, STATUS.txt) are rewritten at most once a second while events arrive,
 * and once more a second after the last of a burst: enough for a person watching, and cheap for a
 * busy run.
 */
const PROJECTION_INTERVAL_MILLISECONDS = 1000;

/**
 * The follower reads at most this often, however many commits wake it (the cadence of the polling
 * it replaced): the terminal shows progress in batches a person cannot tell from one at a time, and
 * a busy run is not slowed by its own display.
 */
const FOLLOW_READ_INTERVAL_MILLISECONDS = 200;

export interface RunFollower {
  /** Delivers every event recorded so far, rewrites the projections once more, and stops. */
  stop(): Promise<void>;
}

/**
 * Follows a live run's events on the event bus, from `afterSequence`, in the store's order: each
 * goes to `onEvent` (the terminal, `--json`), and the projections are kept current. A failure to
 * read or to project goes to `onError`; the run itself goes on (the store records everything).
 * `onProgress` gets the snapshot each rewrite of the projections took (the terminal panel).
 */
export function followRun(options: {
  workspace: Workspace;
  afterSequence: number;
  onEvent: (event: LokiEvent) => void;
  onError: (error: unknown) => void;
  onProgress?: (progress: RunProgress) => void;
}): RunFollower {
  const { workspace, onProgress } = options;
  const projections = new ThrottledProjections(async () => {
    const snapshot = await workspace.refreshProjections();
    onProgress?.(runProgressOf(snapshot));
  }, options.onError);
  const stopper = new AbortController();
  let lastSequence = options.afterSequence;
  let drainTo = Number.POSITIVE_INFINITY;
  const subscription = new EventBus(workspace.store, {
    minimumReadIntervalMilliseconds: FOLLOW_READ_INTERVAL_MILLISECONDS,
  }).subscribe({
    afterSequence: options.afterSequence,
    signal: stopper.signal,
  });
  const consuming = (async () => {
    for await (const event of subscription) {
      lastSequence = event.sequence;
      options.onEvent(event);
      projections.request();
      if (lastSequence >= drainTo) break;
    }
  })().catch(options.onError);
  return {
    async stop() {
      // Everything recorded before this point is delivered, then the subscription ends.
      drainTo = (await workspace.store.readSummary().catch(() => ({ lastEventSequence: 0 })))
        .lastEventSequence;
      if (lastSequence >= drainTo) stopper.abort();
      await consuming;
      await projections.flush();
    },
  };
}

/**
 * Rewrites the projections at most once per interval, with a trailing rewrite after a burst. The
 * interval counts from the end of the last rewrite: when a rewrite is slow (a busy disk, a big
 * queue), the next waits a whole interval after it instead of starting the moment it ends.
 */
export class ThrottledProjections {
  readonly #refresh: () => Promise<unknown>;
  readonly #onError: (error: unknown) => void;
  readonly #intervalMilliseconds: number;
  #projectedAt = Number.NEGATIVE_INFINITY;
  #trailing: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();
  #writesInFlight = 0;
  #isRequestedWhileWriting = false;

  constructor(
    refresh: () => Promise<unknown>,
    onError: (error: unknown) => void,
    intervalMilliseconds = PROJECTION_INTERVAL_MILLISECONDS,
  ) {
    this.#refresh = refresh;
    this.#onError = onError;
    this.#intervalMilliseconds = intervalMilliseconds;
  }

  request(): void {
    if (this.#writesInFlight > 0) {
      this.#isRequestedWhileWriting = true;
      return;
    }
    const wait = this.#projectedAt + this.#intervalMilliseconds - Date.now();
    if (wait <= 0) {
      this.#write();
      return;
    }
    this.#trailing ??= setTimeout(() => {
      this.#trailing = null;
      this.#write();
    }, wait);
  }

  /** Cancels a pending rewrite and rewrites now (after one under way). */
  async flush(): Promise<void> {
    if (this.#trailing !== null) clearTimeout(this.#trailing);
    this.#trailing = null;
    this.#isRequestedWhileWriting = false;
    this.#write();
    await this.#writing;
  }

  #write(): void {
    this.#writesInFlight += 1;
    this.#writing = this.#writing
      .then(() => this.#refresh())
      .then(
        () => undefined,
        (error: unknown) => this.#onError(error),
      )
      .finally(() => {
        this.#projectedAt = Date.now();
        this.#writesInFlight -= 1;
        if (this.#writesInFlight === 0 && this.#isRequestedWhileWriting) {
          this.#isRequestedWhileWriting = false;
          this.request();
        }
      });
  }
}
