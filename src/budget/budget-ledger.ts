/**
 * Where a run's budget state lives. The governor holds no money state of its own: every decision
 * is one atomic ledger operation, so the same governor works over the in-memory ledger (one
 * process) and over a store-backed ledger shared by workers on several machines.
 *
 * Amounts are integer nano-dollars (see usd-amount.ts). Every adapter must pass
 * `describeBudgetLedgerConformance` (budget-ledger-conformance.ts).
 */

export interface LedgerReservationRequest {
  /** Unique per reservation; the ledger's key for settle and release. */
  reservationId: string;
  taskId: string;
  agentType: string | undefined;
  estimatedNanoUsd: number;
}

export type LedgerReserveOutcome =
  | { isGranted: true }
  /** The totals the refusal was decided on, for the error message. */
  | { isGranted: false; spentNanoUsd: number; reservedNanoUsd: number };

export interface LedgerSettlement {
  reservationId: string;
  /** What the call counts for against the cap (the governor decides this, e.g. for unknown prices). */
  chargedNanoUsd: number;
  isPriceKnown: boolean;
}

export interface LedgerTotals {
  /** Sum of the charges of settled reservations. */
  spentNanoUsd: number;
  /** Sum of the estimates of open (neither settled nor released) reservations. */
  reservedNanoUsd: number;
  /** Spent per task id (settled charges only); tasks with nothing settled are absent. */
  spentNanoUsdByTask: Record<string, number>;
  /** Spent per agent type, for reservations that named one. */
  spentNanoUsdByAgentType: Record<string, number>;
  /** Settled calls whose model had no known price (charged at their estimate). */
  unknownPriceCalls: number;
}

export interface BudgetLedger {
  /**
   * Grants the reservation if and only if `spent + reserved + estimatedNanoUsd <= capNanoUsd`
   * (always, when `capNanoUsd` is undefined), and records it as open.
   *
   * INVARIANT: the check and the insert MUST be one atomic step with respect to every other
   * `tryReserve`, `settle` and `release` on the same run, in this process and in any other. Reading
   * the totals and then inserting in a second step over-commits the cap when agents race.
   */
  tryReserve(
    request: LedgerReservationRequest,
    capNanoUsd: number | undefined,
  ): Promise<LedgerReserveOutcome>;
  /**
   * Closes an open reservation: its estimate leaves `reserved`, the charge joins `spent`.
   * Returns false (and changes nothing) when the reservation is unknown, settled or released.
   */
  settle(settlement: LedgerSettlement): Promise<boolean>;
  /** Closes an open reservation without a charge. Returns false when it is not open. */
  release(reservationId: string): Promise<boolean>;
  totals(): Promise<LedgerTotals>;
}
