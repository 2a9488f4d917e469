import type { Clock } from '../clock/index.ts';
import { LokiError } from '../errors/index.ts';
import type { BreakerSnapshot } from '../store/index.ts';

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
  /** Saves the state; `changed` is true when the state itself changed (an event is recorded then). */
  saveBreaker(snapshot: BreakerSnapshot, changed: boolean): Promise<void>;
}

export function breakerOpenError(snapshot: BreakerSnapshot, retryInMilliseconds: number): LokiError {
  return new LokiError(
    `circuit breaker ${snapshot.name} is open after ${snapshot.consecutiveFailures} consecutive failures; ` +
      `next trial in ${Math.ceil(retryInMilliseconds / 1000)} s`,
    {
      code: 'BREAKER_OPEN',
      category: 'provider',
      isRetryable: true,
      context: { breaker: snapshot.name, retryInMilliseconds },
    },
  );
}

/**
 * closed → open after `failureThreshold` consecutive failures → half-open once `cooldownSeconds`
 * have passed → closed after `halfOpenRequests` successes; any failure while half-open re-opens it.
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

  async snapshot(): Promise<BreakerSnapshot> {
    const stored = await this.#persistence.loadBreaker(this.name);
    const snapshot = stored ?? {
      name: this.name,
      state: 'closed',
      consecutiveFailures: 0,
      halfOpenSuccesses: 0,
      openedAt: null,
      updatedAt: this.#clock.now(),
    };
    if (snapshot.state === 'open' && this.#cooldownLeft(snapshot) <= 0) {
      const halfOpen: BreakerSnapshot = {
        ...snapshot,
        state: 'half_open',
        halfOpenSuccesses: 0,
        updatedAt: this.#clock.now(),
      };
      await this.#persistence.saveBreaker(halfOpen, true);
      return halfOpen;
    }
    return snapshot;
  }

  /** Throws BREAKER_OPEN while the breaker is open; otherwise lets the call through. */
  async beforeCall(): Promise<void> {
    const snapshot = await this.snapshot();
    if (snapshot.state === 'open') throw breakerOpenError(snapshot, this.#cooldownLeft(snapshot));
  }

  async recordSuccess(): Promise<BreakerSnapshot> {
    const snapshot = await this.snapshot();
    const now = this.#clock.now();
    if (snapshot.state === 'half_open') {
      const successes = snapshot.halfOpenSuccesses + 1;
      const closes = successes >= this.#settings.halfOpenRequests;
      const next: BreakerSnapshot = closes
        ? {
            ...snapshot,
            state: 'closed',
            consecutiveFailures: 0,
            halfOpenSuccesses: 0,
            openedAt: null,
            updatedAt: now,
          }
        : { ...snapshot, halfOpenSuccesses: successes, updatedAt: now };
      await this.#persistence.saveBreaker(next, closes);
      return next;
    }
    if (snapshot.consecutiveFailures === 0) return snapshot;
    const next: BreakerSnapshot = { ...snapshot, consecutiveFailures: 0, updatedAt: now };
    await this.#persistence.saveBreaker(next, false);
    return next;
  }

  async recordFailure(): Promise<BreakerSnapshot> {
    const snapshot = await this.snapshot();
    const now = this.#clock.now();
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
    await this.#persistence.saveBreaker(next, opens);
    return next;
  }

  #cooldownLeft(snapshot: BreakerSnapshot): number {
    return (snapshot.openedAt ?? 0) + this.#settings.cooldownSeconds * 1000 - this.#clock.now();
  }
}
