import { StoreWakeup } from '../distributed/index.ts';
import type { RunStatus, Store } from '../store/index.ts';

export interface ServedRunWatch extends Disposable {
  /** True once the run's row says it is no longer running. */
  readonly hasEnded: boolean;
  /** The run's status (running until it ended). */
  readonly status: RunStatus;
  /** True while the run is paused (`loki pause`): no new task is claimed. */
  readonly isPaused: boolean;
  /** Resolves on the next change of the store (or the poll interval), or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void>;
}

/**
 * A worker's view of the run it serves, from the run's row, read again on every commit in the store
 * (and every 2 s): its end (the worker's signal is then aborted, as on a stop), a stop request, a
 * pause. Unlike the run's own RunControlWatch it never writes the row: requests are the run's.
 */
export function watchServedRun(options: {
  store: Pick<Store, 'getRun' | 'onEventsAppended' | 'onEventsCommitted'>;
  runId: string;
  onStop: () => void;
  /** The run's row could not be read: the worker stops with that error. */
  onError: (error: unknown) => void;
  signal: AbortSignal;
}): ServedRunWatch {
  const loop = new AbortController();
  const wakeup = new StoreWakeup(options.store, 2000);
  const waiters = new StoreWakeup(options.store, 2000);
  let status: RunStatus = 'running';
  let isPaused = false;
  const signal = AbortSignal.any([loop.signal, options.signal]);
  const read = async () => {
    while (!signal.aborted) {
      const run = await options.store.getRun(options.runId);
      status = run?.status ?? 'failed';
      isPaused = run?.control === 'pause';
      if (status !== 'running' || run?.control === 'stop') {
        options.onStop();
        return;
      }
      await wakeup.wait(signal);
    }
  };
  const reading = read().catch(options.onError);
  return {
    get hasEnded() {
      return status !== 'running';
    },
    get status() {
      return status;
    },
    get isPaused() {
      return isPaused;
    },
    changed: (waitSignal) => waiters.wait(waitSignal),
    [Symbol.dispose]() {
      loop.abort();
      void reading;
      wakeup[Symbol.dispose]();
      waiters[Symbol.dispose]();
    },
  };
}
