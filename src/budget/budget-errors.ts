import { ExitCode, LokiError, usageError } from '../errors/index.ts';
import { formatUsd } from './usd-amount.ts';

export interface BudgetExhaustedDetails {
  capUsd: number;
  spentUsd: number;
  reservedUsd: number;
  estimatedCostUsd: number;
  taskId: string;
}

/**
 * The cap would be crossed: no new model call may start. Not retryable: the run stops starting
 * work and ends with the budget-stop exit code, even though a release elsewhere may free a little.
 */
export function budgetExhaustedError(details: BudgetExhaustedDetails): LokiError {
  const message =
    `budget of ${formatUsd(details.capUsd)} reached: ${formatUsd(details.spentUsd)} spent and ` +
    `${formatUsd(details.reservedUsd)} reserved by calls in flight, so a call for task ${details.taskId} ` +
    `estimated at up to ${formatUsd(details.estimatedCostUsd)} cannot start. ` +
    'Raise --budget (or LOKI_BUDGET_USD) and run `loki resume` to continue.';
  return new LokiError(message, {
    code: 'BUDGET_EXHAUSTED',
    category: 'user',
    exitCode: ExitCode.budgetStop,
    isRetryable: false,
    context: { ...details },
  });
}

export function invalidBudgetError(value: unknown, reason: string): LokiError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return usageError(
    'BUDGET_INVALID',
    `invalid budget ${shown}: ${reason}. --budget <USD> and LOKI_BUDGET_USD take a positive number of ` +
      'US dollars, e.g. --budget 5 or LOKI_BUDGET_USD=2.50; leave both unset for no cap.',
    { value },
  );
}

/** A caller passed an amount that is not a cost (NaN, negative, infinite): a bug, not user input. */
export function invalidBudgetAmountError(name: string, value: number): LokiError {
  return new LokiError(`${name} must be a finite number of US dollars ≥ 0, got ${String(value)}`, {
    code: 'BUDGET_AMOUNT_INVALID',
    category: 'internal',
    context: { name, value },
  });
}

/** settle or release of a reservation that is already closed (or never existed): a bug at the call site. */
export function reservationClosedError(reservationId: string, operation: 'settle' | 'release'): LokiError {
  return new LokiError(
    `cannot ${operation} budget reservation ${reservationId}: it is already settled or released`,
    { code: 'BUDGET_RESERVATION_CLOSED', category: 'internal', context: { reservationId, operation } },
  );
}

export function reservationIdReusedError(reservationId: string): LokiError {
  return new LokiError(`budget reservation id ${reservationId} is already in use`, {
    code: 'BUDGET_RESERVATION_ID_REUSED',
    category: 'internal',
    context: { reservationId },
  });
}
