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
