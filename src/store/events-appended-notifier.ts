import type { LokiEvent } from '../events/index.ts';

/** Hears, after the fact, that one committed transaction appended `events` (in sequence order). */
export type EventsAppendedListener = (events: readonly LokiEvent[]) => void;

/**
 * The in-process half of "published after commit", shared by the store adapters. An adapter calls
 * `notify` only once a transaction has committed, so a listener never hears of an event a reader
 * cannot see yet, nor of one that was rolled back.
 *
 * Listeners are called synchronously, in the order they were added, and MUST be quick: they run on
 * the writer's call, before its promise resolves. The event bus only uses them as a wake-up and
 * reads the events back from the store.
 */
export class EventsAppendedNotifier {
  readonly #listeners = new Set<EventsAppendedListener>();
  readonly #reportListenerError: (error: unknown) => void;

  /**
   * `reportListenerError` gets what a listener threw. By default it is thrown again on its own, as
   * an uncaught exception: a listener that throws is a bug to see, not to swallow.
   */
  constructor(options: { reportListenerError?: (error: unknown) => void } = {}) {
    this.#reportListenerError = options.reportListenerError ?? rethrowOnItsOwn;
  }

  /** Adds a listener; the function returned removes it (calling it twice is harmless). */
  add(listener: EventsAppendedListener): () => void {
    // A wrapper per registration, so that adding the same function twice means two registrations.
    const registration: EventsAppendedListener = (events) => listener(events);
    this.#listeners.add(registration);
    return () => {
      this.#listeners.delete(registration);
    };
  }

  notify(events: readonly LokiEvent[]): void {
    if (events.length === 0) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(events);
      } catch (error) {
        // The transaction is committed: throwing here would tell the writer its write failed (and
        // invite a retry that appends twice), and would starve the other listeners.
        this.#reportListenerError(error);
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}

function rethrowOnItsOwn(error: unknown): void {
  queueMicrotask(() => {
    throw new Error('a listener of appended events threw', { cause: error });
  });
}
