import { type Clock, systemClock } from '../clock/index.ts';

/** A provider's limits, from `providerLimits` in the configuration. */
export interface CallLimits {
  /** Model calls in flight at once; null: no limit. */
  maxConcurrentRequests: number | null;
  /** Model calls started per minute, spaced evenly (one every 60/n seconds); null: no limit. */
  requestsPerMinute: number | null;
}

export const NO_CALL_LIMITS: CallLimits = { maxConcurrentRequests: null, requestsPerMinute: null };

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/**
 * Paces the model calls of one provider: at most `maxConcurrentRequests` in flight (waiters are
 * served first come, first served), starts at least 60/`requestsPerMinute` seconds apart, and none
 * before a time the provider asked for (`pauseUntil`, from a retry-after). One limiter per provider
 * is shared by every agent of the process (`sharedCallLimiter`), so the limits hold for the run as
 * a whole, not per agent.
 */
export class CallLimiter {
  readonly #clock: Clock;
  readonly #sleep: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
  #limits: CallLimits;
  #inFlight = 0;
  readonly #waiting: Waiter[] = [];
  /** The earliest start of the next call: the pacing of requestsPerMinute and the provider's own pause. */
  #nextStartAt = 0;
  #pausedUntil = 0;

  constructor(
    limits: CallLimits,
    options: { clock?: Clock; sleep: (milliseconds: number, signal?: AbortSignal) => Promise<void> },
  ) {
    this.#limits = limits;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep;
  }

  get limits(): CallLimits {
    return this.#limits;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Applies new limits (a later run of this process may be configured differently). */
  configure(limits: CallLimits): void {
    this.#limits = limits;
    this.#serveWaiters();
  }

  /** The provider asked every call to wait until `time` (epoch ms): no call starts before it. */
  pauseUntil(time: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, time);
  }

  /** How long a call starting now would wait for the provider's pause, in milliseconds. */
  pauseLeft(): number {
    return Math.max(0, this.#pausedUntil - this.#clock.now());
  }

  /**
   * Waits for a slot and for the call's start time, then returns the function that gives the slot
   * back: it MUST be called when the call is over (its response fully read), whatever happened.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    await this.#takeSlot(signal);
    let isReleased = false;
    const release = () => {
      if (isReleased) return;
      isReleased = true;
      this.#giveBackSlot();
    };
    try {
      const now = this.#clock.now();
      const startAt = Math.max(now, this.#nextStartAt, this.#pausedUntil);
      const perMinute = this.#limits.requestsPerMinute;
      if (perMinute !== null) this.#nextStartAt = startAt + 60_000 / perMinute;
      if (startAt > now) await this.#sleep(startAt - now, signal);
      return release;
    } catch (error) {
      release();
      throw error;
    }
  }

  #takeSlot(signal?: AbortSignal): Promise<void> {
    const max = this.#limits.maxConcurrentRequests;
    if (this.#waiting.length === 0 && (max === null || this.#inFlight < max)) {
      this.#inFlight += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      this.#waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #giveBackSlot(): void {
    this.#inFlight -= 1;
    this.#serveWaiters();
  }

  /** Hands free slots to the waiters in arrival order. */
  #serveWaiters(): void {
    const max = this.#limits.maxConcurrentRequests;
    while (this.#waiting.length > 0 && (max === null || this.#inFlight < max)) {
      this.#inFlight += 1;
      this.#waiting.shift()?.resolve();
    }
  }
}

/**
 * Invariant: one limiter per provider name for the whole process, whoever asks (every task agent,
 * the planning agents, `loki task run`). The limits given by the latest caller apply.
 */
const sharedLimiters = new Map<string, CallLimiter>();

export function sharedCallLimiter(
  provider: string,
  limits: CallLimits,
  options: { clock?: Clock; sleep: (milliseconds: number, signal?: AbortSignal) => Promise<void> },
): CallLimiter {
  const existing = sharedLimiters.get(provider);
  if (existing !== undefined) {
    existing.configure(limits);
    return existing;
  }
  const limiter = new CallLimiter(limits, options);
  sharedLimiters.set(provider, limiter);
  return limiter;
}
