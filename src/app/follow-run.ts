import type { LokiEvent } from '../events/index.ts';
import type { Workspace } from '../workspace/index.ts';

/** How often the store is read for new events while a run goes on. */
const FOLLOW_INTERVAL_MILLISECONDS = 200;
/**
 * Projections (queue JSON, STATUS.txt) are rewritten at most once a second while events arrive:
 * enough for a person watching, and cheap for a busy run.
 */
const PROJECTION_INTERVAL_MILLISECONDS = 1000;

export interface RunFollower {
  /** Delivers what is left, rewrites the projections once more, and stops following. */
  stop(): Promise<void>;
}

/**
 * Follows a live run's events from the store, the single source of truth, in order from
 * `afterSequence`: each goes to `onEvent`, and the projections are kept current. A failure to
 * read goes to `onError` (the run itself goes on: the store records everything).
 */
export function followRun(options: {
  workspace: Workspace;
  afterSequence: number;
  onEvent: (event: LokiEvent) => void;
  onError: (error: unknown) => void;
}): RunFollower {
  const { workspace } = options;
  let lastSequence = options.afterSequence;
  let projectedAt = 0;
  let reading: Promise<void> | null = null;
  const readOnce = async (isFinal: boolean) => {
    const events = await workspace.store.listEvents({ afterSequence: lastSequence });
    for (const event of events) {
      lastSequence = event.sequence;
      options.onEvent(event);
    }
    if (isFinal || (events.length > 0 && Date.now() - projectedAt >= PROJECTION_INTERVAL_MILLISECONDS)) {
      projectedAt = Date.now();
      await workspace.refreshProjections();
    }
  };
  const read = (isFinal: boolean): Promise<void> => {
    reading ??= readOnce(isFinal)
      .catch(options.onError)
      .finally(() => {
        reading = null;
      });
    return reading;
  };
  const timer = setInterval(() => void read(false), FOLLOW_INTERVAL_MILLISECONDS);
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await read(true);
    },
  };
}
