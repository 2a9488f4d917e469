export {
  type BudgetExhaustedDetails,
  budgetExhaustedError,
  invalidBudgetError,
  reservationIdReusedError,
} from './budget-errors.ts';
export {
  BudgetGovernor,
  type BudgetGovernorOptions,
  type BudgetReservation,
  type BudgetSummary,
  MAX_BUDGET_USD,
  parseBudgetCapUsd,
  type RecordRequest,
  type ReserveRequest,
  type SettleOptions,
} from './budget-governor.ts';
export type {
  BudgetLedger,
  LedgerReservationRequest,
  LedgerReserveOutcome,
  LedgerSettlement,
  LedgerTotals,
} from './budget-ledger.ts';
export {
  type BilledTokens,
  type CallCostEstimate,
  DEFAULT_UNKNOWN_PRICE_RATES,
  estimateCallCostUsd,
  type EstimateCallCostOptions,
  type PriceUsage,
  type UnknownPriceRates,
} from './estimate-call-cost-usd.ts';
export { InMemoryBudgetLedger } from './in-memory-budget-ledger.ts';
export { PHASE_CALL_TASK_PREFIX, phaseCallTaskId } from './phase-calls.ts';
export { openRunGovernor, type RunGovernor, type RunGovernorRequest } from './open-run-governor.ts';
export { formatUsd, fromNanoUsd, NANO_USD_PER_USD, toNanoUsd } from './usd-amount.ts';
export {
  type BudgetStanding,
  type CallBudget,
  type CallBudgetHold,
  type CallPromptSize,
  createCallBudget,
} from './create-call-budget.ts';
