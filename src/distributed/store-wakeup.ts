import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../store/index.ts';

/**
 * Waits for the store to change: woken by any commit anywhere (`onEventsCommitted`, LISTEN/NOTIFY
 * on PostgreSQL) and by this process's own appends, with a slow poll as the fallback for a wake-up
 * lost with a dropped connection. Callers read the store itself for what happened.
 */
export class StoreWakeup implements Disposable {
  readonly #pollMilliseconds: number;
  readonly #stops: (() => void)[] = [];
  #wake: (() => void) | null = null;
  /** A change seen while nobody waited: the next wait returns at once. */
  #isPending = false;

  constructor(store: Pick<Store, 'onEventsAppended' | 'onEventsCommitted'>, pollMilliseconds: number) {
    this.#pollMilliseconds = pollMilliseconds;
    const notify = () => {
      this.#isPending = true;
      this.#wake?.();
    };
    this.#stops.push(store.onEventsAppended(notify));
    const stopCommitted = store.onEventsCommitted?.(notify);
    if (stopCommitted !== undefined) this.#stops.push(stopCommitted);
  }

  /** Resolves on the next change (or one seen since the last wait), the poll interval, or `signal`. */
  async wait(signal: AbortSignal): Promise<void> {
    if (this.#isPending || signal.aborted) {
      this.#isPending = false;
      return;
    }
    const woken = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    await Promise.race([woken, delay(this.#pollMilliseconds, undefined, { signal }).catch(() => undefined)]);
    this.#wake = null;
    this.#isPending = false;
  }

  [Symbol.dispose](): void {
    for (const stop of this.#stops) stop();
  }
}
