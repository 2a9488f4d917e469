import type { Store } from '../store/store.ts';
import type { EventType, LokiEvent } from './event-types.ts';

/** What the bus needs of a store: the log and the in-process "events were appended" signal. */
export type EventBusStore = Pick<Store, 'listEvents' | 'onEventsAppended' | 'onEventsCommitted'>;

export interface EventSubscription {
  /** Deliver the events after this sequence number: 0 (the default) replays the whole log. */
  afterSequence?: number;
  /** Only events of these types. */
  types?: readonly EventType[];
  taskId?: string;
  runId?: string;
  /** Aborting it ends the iteration normally (no error), as breaking out of the loop does. */
  signal?: AbortSignal;
}

/**
 * A subscription's events. Breaking out of `for await`, calling `return()` (even while a `next()`
 * is waiting for an event) or disposing of it ends it at once.
 */
export interface EventStream extends AsyncIterableIterator<LokiEvent>, AsyncDisposable {}

/** A subscription's events in the batches they were read in; ends as an EventStream does. */
export interface EventBatchStream extends AsyncIterableIterator<readonly LokiEvent[]>, AsyncDisposable {}

export interface EventBusOptions {
  /**
   * How often a subscription reads the store even when nothing in this process wrote to it, so
   * that events written by another process (another loki command, a remote worker) arrive too.
   */
  pollIntervalMilliseconds?: number;
  /** Most events read from the store at once while catching up. */
  batchSize?: number;
  /**
   * Reads at most once per this many milliseconds however often commits wake the subscription
   * (0, the default: a read after every commit). A busy run commits hundreds of times a second; a
   * follower that only shows progress to people reads the same events in a few batches instead.
   */
  minimumReadIntervalMilliseconds?: number;
  /** Starts the poll timer and returns what cancels it; injected by tests that count live timers. */
  startTimer?: StartTimer;
}

export type StartTimer = (callback: () => void, milliseconds: number) => () => void;

const startSystemTimer: StartTimer = (callback, milliseconds) => {
  const timer = setTimeout(callback, milliseconds);
  return () => clearTimeout(timer);
};

const DEFAULT_POLL_INTERVAL_MILLISECONDS = 200;
const DEFAULT_BATCH_SIZE = 500;

/**
 * Subscriptions to the event log: each replays the stored events after a sequence number, then
 * follows new ones as they are committed, from this process or any other, with no gap and no
 * duplicate.
 *
 * How it stays gap-free and in order: the store is the only source. A subscription always reads
 * `listEvents({ afterSequence: last delivered, ...filter })` and delivers what it gets in sequence
 * order; a notification from the store (`onEventsAppended`, after a commit in this process;
 * `onEventsCommitted` where the store hears other processes' commits) or the poll timer (for other
 * processes) only says "read again now". That is enough because a store's
 * sequence numbers are assigned in commit order: SQLite serialises writers (BEGIN IMMEDIATE) and
 * numbers events inside the write transaction, so once sequence n is visible every event before it
 * is too, and no later commit can add an event below n (the numbers of a rolled-back transaction
 * were never visible, and the next commit uses them again). PostgreSQL, whose serials are not
 * commit-ordered, numbers events from a counter row locked to COMMIT (postgres-transaction.ts).
 */
export class EventBus {
  readonly #store: EventBusStore;
  readonly #pollIntervalMilliseconds: number;
  readonly #batchSize: number;
  readonly #minimumReadIntervalMilliseconds: number;
  readonly #startTimer: StartTimer;

  constructor(store: EventBusStore, options: EventBusOptions = {}) {
    this.#store = store;
    this.#pollIntervalMilliseconds = options.pollIntervalMilliseconds ?? DEFAULT_POLL_INTERVAL_MILLISECONDS;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#minimumReadIntervalMilliseconds = options.minimumReadIntervalMilliseconds ?? 0;
    this.#startTimer = options.startTimer ?? startSystemTimer;
  }

  /**
   * The events matching `subscription`, replayed and then followed until the signal aborts or the
   * consumer stops iterating. Nothing is held (no listener, no timer) before the first `next()`
   * nor after the end. A store error ends the iteration with that error.
   */
  subscribe(subscription: EventSubscription = {}): EventStream {
    return stoppable((stopper) => this.#follow(subscription, stopper));
  }

  /**
   * The same events, as the batches the store hands over (each read's events, in order): for a
   * consumer that does one thing per batch, such as one write to a socket, instead of one per event.
   */
  subscribeBatches(subscription: EventSubscription = {}): EventBatchStream {
    return stoppable((stopper) => this.#followBatches(subscription, stopper));
  }

  async *#follow(
    subscription: EventSubscription,
    stopper: AbortController,
  ): AsyncGenerator<LokiEvent, undefined, undefined> {
    for await (const batch of this.#followBatches(subscription, stopper)) {
      for (const event of batch) {
        if (stopper.signal.aborted) return undefined;
        yield event;
      }
    }
    return undefined;
  }

  async *#followBatches(
    subscription: EventSubscription,
    stopper: AbortController,
  ): AsyncGenerator<readonly LokiEvent[], undefined, undefined> {
    const { signal: callerSignal, afterSequence = 0, ...filter } = subscription;
    const signal = stopper.signal;
    const stopOnAbort = () => stopper.abort();
    callerSignal?.addEventListener('abort', stopOnAbort, { once: true });
    if (callerSignal?.aborted === true) stopper.abort();
    const wakeUp = new WakeUp(this.#startTimer);
    const stopListening = this.#store.onEventsAppended(() => wakeUp.notify());
    // Where the store can say so, commits of other processes wake it too, not only the poll timer.
    const stopHearingOthers = this.#store.onEventsCommitted?.(() => wakeUp.notify());
    try {
      let lastSequence = afterSequence;
      while (!signal.aborted) {
        // Forgotten BEFORE the read: a commit that lands during the read wakes the next wait at once.
        wakeUp.clear();
        const batch = await this.#store.listEvents({
          ...filter,
          afterSequence: lastSequence,
          limit: this.#batchSize,
        });
        const last = batch.at(-1);
        if (last !== undefined) {
          if (signal.aborted) return undefined;
          lastSequence = last.sequence;
          yield batch;
        }
        // A full batch: more may be stored already, so read on without waiting.
        if (batch.length < this.#batchSize) {
          await wakeUp.wait(this.#pollIntervalMilliseconds, signal);
          // Commits that land during this pause are read with the rest: the read comes after it.
          if (this.#minimumReadIntervalMilliseconds > 0) {
            await wakeUp.pause(this.#minimumReadIntervalMilliseconds, signal);
          }
        }
      }
    } finally {
      stopListening();
      stopHearingOthers?.();
      callerSignal?.removeEventListener('abort', stopOnAbort);
    }
    return undefined;
  }
}

/**
 * An iterator over what `follow` yields that stops at once: a generator alone would hold a
 * return() until its pending next() got a value; aborting first ends the wait, and with it the
 * generator.
 */
function stoppable<T>(
  follow: (stopper: AbortController) => AsyncGenerator<T, undefined, undefined>,
): AsyncIterableIterator<T> & AsyncDisposable {
  const stopper = new AbortController();
  const values = follow(stopper);
  const stop = async (): Promise<IteratorResult<T, undefined>> => {
    stopper.abort();
    return values.return(undefined);
  };
  return {
    next: () => values.next(),
    return: stop,
    [Symbol.asyncIterator]() {
      return this;
    },
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** A one-slot wake-up: remembers a notification that came while nobody was waiting. */
class WakeUp {
  readonly #startTimer: StartTimer;
  #isPending = false;
  #wake: (() => void) | null = null;

  constructor(startTimer: StartTimer) {
    this.#startTimer = startTimer;
  }

  notify(): void {
    this.#isPending = true;
    this.#wake?.();
  }

  clear(): void {
    this.#isPending = false;
  }

  /** Resolves after `milliseconds` or on abort, whatever notifications come meanwhile. */
  async pause(milliseconds: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const end = () => {
        cancelTimer();
        signal.removeEventListener('abort', end);
        resolve();
      };
      const cancelTimer = this.#startTimer(end, milliseconds);
      signal.addEventListener('abort', end, { once: true });
    });
  }

  /** Resolves on a notification (or one already pending), after `milliseconds`, or on abort. */
  async wait(milliseconds: number, signal: AbortSignal): Promise<void> {
    if (this.#isPending || signal.aborted) return;
    await new Promise<void>((resolve) => {
      // Whatever ends the wait removes the timer and the abort listener: nothing outlives it.
      const end = () => {
        cancelTimer();
        signal.removeEventListener('abort', end);
        this.#wake = null;
        resolve();
      };
      const cancelTimer = this.#startTimer(end, milliseconds);
      signal.addEventListener('abort', end, { once: true });
      this.#wake = end;
    });
  }
}
