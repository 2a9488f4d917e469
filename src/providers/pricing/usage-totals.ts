/** Tokens and cost over every model call of one agent run (any runtime), summed across attempts. */
export interface UsageTotals {
  /** Uncached input tokens (cache reads and writes are counted apart, as they are billed apart). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** False as soon as one model's price was unknown: `costUsd` is then a lower bound. */
  isCostKnown: boolean;
  modelCalls: number;
}

export function emptyUsageTotals(): UsageTotals {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    isCostKnown: true,
    modelCalls: 0,
  };
}

/** Adds `usage` into `totals` (mutates `totals`). */
export function addUsageTotals(totals: UsageTotals, usage: UsageTotals): void {
  totals.inputTokens += usage.inputTokens;
  totals.outputTokens += usage.outputTokens;
  totals.cacheReadTokens += usage.cacheReadTokens;
  totals.cacheWriteTokens += usage.cacheWriteTokens;
  totals.costUsd += usage.costUsd;
  totals.isCostKnown &&= usage.isCostKnown;
  totals.modelCalls += usage.modelCalls;
}
