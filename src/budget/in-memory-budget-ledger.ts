import { reservationIdReusedError } from './budget-errors.ts';
import type {
  BudgetLedger,
  LedgerReservationRequest,
  LedgerReserveOutcome,
  LedgerSettlement,
  LedgerTotals,
} from './budget-ledger.ts';

interface OpenReservation {
  taskId: string;
  agentType: string | undefined;
  estimatedNanoUsd: number;
}

/**
 * The ledger for a run whose agents all live in this process. Each method does its whole check
 * and update synchronously, with no `await` in between; JavaScript runs it to completion before
 * any other call, which is what makes `tryReserve` atomic here.
 */
export class InMemoryBudgetLedger implements BudgetLedger {
  readonly #open = new Map<string, OpenReservation>();
  /** Ids of settled or released reservations, so a second close is refused rather than double-counted. */
  readonly #closed = new Set<string>();
  #spentNanoUsd = 0;
  #reservedNanoUsd = 0;
  readonly #spentByTask = new Map<string, number>();
  readonly #spentByAgentType = new Map<string, number>();
  #unknownPriceCalls = 0;

  async tryReserve(
    request: LedgerReservationRequest,
    capNanoUsd: number | undefined,
  ): Promise<LedgerReserveOutcome> {
    if (this.#open.has(request.reservationId) || this.#closed.has(request.reservationId)) {
      throw reservationIdReusedError(request.reservationId);
    }
    const committed = this.#spentNanoUsd + this.#reservedNanoUsd;
    if (capNanoUsd !== undefined && committed + request.estimatedNanoUsd > capNanoUsd) {
      return { isGranted: false, spentNanoUsd: this.#spentNanoUsd, reservedNanoUsd: this.#reservedNanoUsd };
    }
    this.#open.set(request.reservationId, {
      taskId: request.taskId,
      agentType: request.agentType,
      estimatedNanoUsd: request.estimatedNanoUsd,
    });
    this.#reservedNanoUsd += request.estimatedNanoUsd;
    return { isGranted: true };
  }

  async settle(settlement: LedgerSettlement): Promise<boolean> {
    const reservation = this.#close(settlement.reservationId);
    if (reservation === undefined) return false;
    this.#spentNanoUsd += settlement.chargedNanoUsd;
    addTo(this.#spentByTask, reservation.taskId, settlement.chargedNanoUsd);
    if (reservation.agentType !== undefined) {
      addTo(this.#spentByAgentType, reservation.agentType, settlement.chargedNanoUsd);
    }
    if (!settlement.isPriceKnown) this.#unknownPriceCalls += 1;
    return true;
  }

  async release(reservationId: string): Promise<boolean> {
    return this.#close(reservationId) !== undefined;
  }

  async totals(): Promise<LedgerTotals> {
    return {
      spentNanoUsd: this.#spentNanoUsd,
      reservedNanoUsd: this.#reservedNanoUsd,
      spentNanoUsdByTask: Object.fromEntries(this.#spentByTask),
      spentNanoUsdByAgentType: Object.fromEntries(this.#spentByAgentType),
      unknownPriceCalls: this.#unknownPriceCalls,
    };
  }

  #close(reservationId: string): OpenReservation | undefined {
    const reservation = this.#open.get(reservationId);
    if (reservation === undefined) return undefined;
    this.#open.delete(reservationId);
    this.#closed.add(reservationId);
    this.#reservedNanoUsd -= reservation.estimatedNanoUsd;
    return reservation;
  }
}

function addTo(totals: Map<string, number>, key: string, nanoUsd: number): void {
  totals.set(key, (totals.get(key) ?? 0) + nanoUsd);
}
