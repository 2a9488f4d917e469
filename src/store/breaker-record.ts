/** A circuit breaker's persisted state (the state machine itself lives in src/resilience). */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSnapshot {
  /** `provider:<name>` or `agent-type:<type>`. */
  name: string;
  state: BreakerState;
  consecutiveFailures: number;
  halfOpenSuccesses: number;
  openedAt: number | null;
  updatedAt: number;
}

/**
 * What one breaker update decides from the stored state (null when there is none yet): the state to
 * store and whether its `state` changed (which records a `breaker.changed` event), or null to leave
 * it as it is.
 */
export type BreakerTransition = (
  current: BreakerSnapshot | null,
) => { next: BreakerSnapshot; changed: boolean } | null;
