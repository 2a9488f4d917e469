import type { Clock } from '../clock/index.ts';
import { LokiError } from '../errors/index.ts';
import type { BreakerSnapshot, BreakerTransition } from '../store/index.ts';

export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before letting trial calls through (half-open). */
  cooldownSeconds: number;
  /** Successful trial calls needed to close it again. */
  halfOpenRequests: number;
}

/** Where breakers persist, so that a restart does not forget that a provider is down. */
export interface BreakerPersistence {
  loadBreaker(name: string): Promise<BreakerSnapshot | null>;
  /** Applies a transition to the stored state atomically (see Store.updateBreaker). */
  updateBreaker(name: string, transition: BreakerTransition): Promise<BreakerSnapshot | null>;
}

/**
 * The breaker refuses calls until `notBefore` (epoch ms). A task refused this way waits in the
 * queue until then without counting a failure: the provider is down, not the task.
 */
export function breakerOpenError(
  snapshot: BreakerSnapshot,
  retryInMilliseconds: number,
  now: number,
): LokiError {
  return new LokiError(
    `circuit breaker ${snapshot.name} is open after ${snapshot.consecutiveFailures} consecutive failures; ` +
      `next trial in ${Math.ceil(retryInMilliseconds / 1000)} s`,
    {
      code: 'BREAKER_OPEN',
      category: 'provider',
      isRetryable: true,
      context: { breaker: snapshot.name, retryInMilliseconds, notBefore: now + retryInMilliseconds },
    },
  );
}

/**
 * closed → open after `failureThreshold` consecutive failures → half-open once `cooldownSeconds`
 * have passed → closed after `halfOpenRequests` successes; any failure while half-open re-opens it.
 *
 * Invariant: every change is one `updateBreaker` transition computed from the state as stored at
 * that moment, so failures recorded at once by many agents, processes or machines all count.
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #settings: BreakerSettings;
  readonly #clock: Clock;
  readonly #persistence: BreakerPersistence;

  constructor(name: string, settings: BreakerSettings, clock: Clock, persistence: BreakerPersistence) {
    this.name = name;
    this.#settings = settings;
    this.#clock = clock;
    this.#persistence = persistence;
  }

  /** The current state; an open breaker whose cooldown is over is moved to half-open (and stored). */
  async snapshot(): Promise<BreakerSnapshot> {
    const now = this.#clock.now();
    const stored = await this.#persistence.loadBreaker(this.name);
    // Reading is enough unless the cooldown just ended: that change is written, atomically.
    if (stored === null || !this.#isCoolingDone(stored, now)) return stored ?? this.#closed(now);
    const updated = await this.#persistence.updateBreaker(this.name, (current) => {
      const evaluated = this.#evaluate(current, now);
      return evaluated.state === current?.state ? null : { next: evaluated, changed: true };
    });
    return updated ?? this.#closed(now);
  }

  /** Throws BREAKER_OPEN while the breaker is open; otherwise lets the call through. */
  async beforeCall(): Promise<void> {
    const snapshot = await this.snapshot();
    if (snapshot.state === 'open') {
      const now = this.#clock.now();
      throw breakerOpenError(snapshot, this.#cooldownLeft(snapshot, now), now);
    }
  }

  async recordSuccess(): Promise<BreakerSnapshot> {
    const now = this.#clock.now();
    const stored = await this.#persistence.loadBreaker(this.name);
    // Nothing to reset: a success that changes nothing writes nothing (the common case).
    if (stored === null || (stored.state === 'closed' && stored.consecutiveFailures === 0)) {
      return stored ?? this.#closed(now);
    }
    const updated = await this.#persistence.updateBreaker(this.name, (current) => {
      const snapshot = this.#evaluate(current, now);
      let next: BreakerSnapshot;
      if (snapshot.state === 'half_open') {
        const successes = snapshot.halfOpenSuccesses + 1;
        next =
          successes >= this.#settings.halfOpenRequests
            ? {
                ...snapshot,
                state: 'closed',
                consecutiveFailures: 0,
                halfOpenSuccesses: 0,
                openedAt: null,
                updatedAt: now,
              }
            : { ...snapshot, halfOpenSuccesses: successes, updatedAt: now };
      } else if (snapshot.consecutiveFailures === 0) {
        return null;
      } else {
        next = { ...snapshot, consecutiveFailures: 0, updatedAt: now };
      }
      return { next, changed: next.state !== (current?.state ?? 'closed') };
    });
    return updated ?? this.#closed(now);
  }

  async recordFailure(): Promise<BreakerSnapshot> {
    const now = this.#clock.now();
    const updated = await this.#persistence.updateBreaker(this.name, (current) => {
      const snapshot = this.#evaluate(current, now);
      const failures = snapshot.consecutiveFailures + 1;
      const opens =
        snapshot.state === 'half_open' ||
        (snapshot.state === 'closed' && failures >= this.#settings.failureThreshold);
      const next: BreakerSnapshot = opens
        ? {
            ...snapshot,
            state: 'open',
            consecutiveFailures: failures,
            halfOpenSuccesses: 0,
            openedAt: now,
            updatedAt: now,
          }
        : { ...snapshot, consecutiveFailures: failures, updatedAt: now };
      return { next, changed: opens || next.state !== (current?.state ?? 'closed') };
    });
    return updated ?? this.#closed(now);
  }

  /** The stored state as it stands at `now`: closed when there is none, half-open once an open one cooled down. */
  #evaluate(stored: BreakerSnapshot | null, now: number): BreakerSnapshot {
    if (stored === null) return this.#closed(now);
    if (!this.#isCoolingDone(stored, now)) return stored;
    return { ...stored, state: 'half_open', halfOpenSuccesses: 0, updatedAt: now };
  }

  #isCoolingDone(snapshot: BreakerSnapshot, now: number): boolean {
    return snapshot.state === 'open' && this.#cooldownLeft(snapshot, now) <= 0;
  }

  #closed(now: number): BreakerSnapshot {
    return {
      name: this.name,
      state: 'closed',
      consecutiveFailures: 0,
      halfOpenSuccesses: 0,
      openedAt: null,
      updatedAt: now,
    };
  }

  #cooldownLeft(snapshot: BreakerSnapshot, now: number): number {
    return (snapshot.openedAt ?? 0) + this.#settings.cooldownSeconds * 1000 - now;
  }
}
