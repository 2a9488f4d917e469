import { type IdFactory, randomId } from '../clock/index.ts';
import {
  budgetExhaustedError,
  invalidBudgetAmountError,
  invalidBudgetError,
  reservationClosedError,
} from './budget-errors.ts';
import type { BudgetLedger } from './budget-ledger.ts';
import { InMemoryBudgetLedger } from './in-memory-budget-ledger.ts';
import { fromNanoUsd, toNanoUsd } from './usd-amount.ts';

/** Larger caps are refused: amounts are integer nano-dollars, exact only up to about $9 million. */
export const MAX_BUDGET_USD = 1_000_000;

const DECIMAL_NUMBER = /^\d+(?:\.\d+)?$|^\.\d+$/;

/**
 * Checks a cap from `--budget` or `LOKI_BUDGET_USD` (a number, or the text of one). Returns
 * undefined for "no cap"; throws a usage error (exit 2) for anything that is not a positive amount.
 */
export function parseBudgetCapUsd(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  let capUsd: number;
  if (typeof value === 'number') {
    capUsd = value;
  } else if (typeof value === 'string' && DECIMAL_NUMBER.test(value.trim())) {
    capUsd = Number(value.trim());
  } else {
    throw invalidBudgetError(value, 'it is not a number');
  }
  if (!Number.isFinite(capUsd)) throw invalidBudgetError(value, 'it must be finite');
  if (capUsd <= 0 || toNanoUsd(capUsd) < 1) throw invalidBudgetError(value, 'it must be greater than 0');
  if (capUsd > MAX_BUDGET_USD) {
    throw invalidBudgetError(value, `it must be at most ${MAX_BUDGET_USD.toLocaleString('en-US')}`);
  }
  return capUsd;
}

/** Money set aside for one model call; hand it back to `settle` or `release` exactly once. */
export interface BudgetReservation {
  readonly id: string;
  readonly taskId: string;
  readonly agentType: string | undefined;
  readonly estimatedCostUsd: number;
}

export interface ReserveRequest {
  /** The task the call works for. Calls outside a task (planning phases) use a stable label such as `phase:discovery`. */
  taskId: string;
  agentType?: string;
  /** Upper bound of the call's cost, usually from `estimateCallCostUsd`. */
  estimatedCostUsd: number;
}

/** Spend to charge after the fact (see `record`). */
export interface RecordRequest {
  taskId: string;
  agentType?: string;
  costUsd: number;
  isPriceKnown: boolean;
}

export interface SettleOptions {
  /** False when the model had no price: the call is then charged its estimate and reported. */
  isPriceKnown: boolean;
}

/** What the run report says about money: how much, and on what. */
export interface BudgetSummary {
  /** Undefined when the run has no cap. */
  capUsd: number | undefined;
  spentUsd: number;
  /** Set aside by calls still in flight. */
  reservedUsd: number;
  /** cap − spent − reserved, never below 0; undefined when the run has no cap. */
  remainingUsd: number | undefined;
  byTask: Record<string, number>;
  /** Present when at least one call named its agent type. */
  byAgentType?: Record<string, number>;
  /** Calls whose model had no known price; their estimates are counted in `spentUsd`. */
  unknownPriceCalls: number;
}

export interface BudgetGovernorOptions {
  /** From `--budget` / `LOKI_BUDGET_USD`; validated here. Undefined = no cap, spend still tracked. */
  capUsd?: number | undefined;
  /** Where the budget state lives; in memory unless a store provides a shared one. */
  ledger?: BudgetLedger;
  createId?: IdFactory;
}

/**
 * A hard cap on a run's total model spend across all agents. Every model call reserves its
 * estimated cost first (`reserve`), and then either `settle`s with what it really cost or
 * `release`s when it failed before costing anything.
 *
 * INVARIANT: spent + reserved never passes the cap through `reserve`: the check and the
 * reservation are one atomic ledger step, so agents racing for the last dollars cannot over-commit.
 * Only a call that costs more than it reserved (a bad estimate) can carry `spent` past the cap, and
 * then every later `reserve` is refused.
 */
export class BudgetGovernor {
  readonly capUsd: number | undefined;
  readonly #capNanoUsd: number | undefined;
  readonly #ledger: BudgetLedger;
  readonly #createId: IdFactory;

  constructor(options: BudgetGovernorOptions = {}) {
    this.capUsd = parseBudgetCapUsd(options.capUsd);
    this.#capNanoUsd = this.capUsd === undefined ? undefined : toNanoUsd(this.capUsd);
    this.#ledger = options.ledger ?? new InMemoryBudgetLedger();
    this.#createId = options.createId ?? randomId;
  }

  /** Sets money aside for one call, or throws BUDGET_EXHAUSTED (exit 4) if it would cross the cap. */
  async reserve(request: ReserveRequest): Promise<BudgetReservation> {
    checkAmount('estimatedCostUsd', request.estimatedCostUsd);
    const reservation: BudgetReservation = {
      id: this.#createId('budget'),
      taskId: request.taskId,
      agentType: request.agentType,
      estimatedCostUsd: request.estimatedCostUsd,
    };
    const outcome = await this.#ledger.tryReserve(
      {
        reservationId: reservation.id,
        taskId: reservation.taskId,
        agentType: reservation.agentType,
        estimatedNanoUsd: toNanoUsd(reservation.estimatedCostUsd),
      },
      this.#capNanoUsd,
    );
    if (outcome.isGranted) return reservation;
    throw budgetExhaustedError({
      capUsd: this.capUsd ?? Number.POSITIVE_INFINITY,
      spentUsd: fromNanoUsd(outcome.spentNanoUsd),
      reservedUsd: fromNanoUsd(outcome.reservedNanoUsd),
      estimatedCostUsd: request.estimatedCostUsd,
      taskId: request.taskId,
    });
  }

  /**
   * Replaces the reservation's estimate with what the call cost. With an unknown price the call is
   * charged its estimate (or `actualCostUsd` if that is higher), so the cap still holds, and it is
   * counted in `unknownPriceCalls`.
   */
  async settle(reservation: BudgetReservation, actualCostUsd: number, options: SettleOptions): Promise<void> {
    checkAmount('actualCostUsd', actualCostUsd);
    const chargedUsd = options.isPriceKnown
      ? actualCostUsd
      : Math.max(actualCostUsd, reservation.estimatedCostUsd);
    const isSettled = await this.#ledger.settle({
      reservationId: reservation.id,
      chargedNanoUsd: toNanoUsd(chargedUsd),
      isPriceKnown: options.isPriceKnown,
    });
    if (!isSettled) throw reservationClosedError(reservation.id, 'settle');
  }

  /**
   * Charges spend that already happened without a reservation: what an agent CLI spent on calls
   * Loki could not hold back (a turn that started before its reservation was refused). Never
   * refused, so the ledger shows every dollar; later `reserve`s see it.
   */
  async record(request: RecordRequest): Promise<void> {
    checkAmount('costUsd', request.costUsd);
    const reservationId = this.#createId('budget');
    await this.#ledger.tryReserve(
      {
        reservationId,
        taskId: request.taskId,
        agentType: request.agentType,
        estimatedNanoUsd: toNanoUsd(request.costUsd),
      },
      // No cap: this money is spent already; the check belongs before the next call.
      undefined,
    );
    const isSettled = await this.#ledger.settle({
      reservationId,
      chargedNanoUsd: toNanoUsd(request.costUsd),
      isPriceKnown: request.isPriceKnown,
    });
    if (!isSettled) throw reservationClosedError(reservationId, 'settle');
  }

  /** Gives the reservation back: for a call that failed before it cost anything. */
  async release(reservation: BudgetReservation): Promise<void> {
    const isReleased = await this.#ledger.release(reservation.id);
    if (!isReleased) throw reservationClosedError(reservation.id, 'release');
  }

  async summary(): Promise<BudgetSummary> {
    const totals = await this.#ledger.totals();
    const summary: BudgetSummary = {
      capUsd: this.capUsd,
      spentUsd: fromNanoUsd(totals.spentNanoUsd),
      reservedUsd: fromNanoUsd(totals.reservedNanoUsd),
      remainingUsd:
        this.#capNanoUsd === undefined
          ? undefined
          : fromNanoUsd(Math.max(0, this.#capNanoUsd - totals.spentNanoUsd - totals.reservedNanoUsd)),
      byTask: mapToUsd(totals.spentNanoUsdByTask),
      unknownPriceCalls: totals.unknownPriceCalls,
    };
    if (Object.keys(totals.spentNanoUsdByAgentType).length > 0) {
      summary.byAgentType = mapToUsd(totals.spentNanoUsdByAgentType);
    }
    return summary;
  }
}

function checkAmount(name: string, usd: number): void {
  if (!Number.isFinite(usd) || usd < 0) throw invalidBudgetAmountError(name, usd);
}

function mapToUsd(nanoUsdByKey: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(nanoUsdByKey).map(([key, nanoUsd]) => [key, fromNanoUsd(nanoUsd)]),
  );
}
