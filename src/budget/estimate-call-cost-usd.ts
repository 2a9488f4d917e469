import { highestPriceRates } from '../providers/index.ts';
/** Tokens in the shape `priceUsage` (src/providers) bills them. */
export interface BilledTokens {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** `priceUsage` from src/providers fits this; passed in so the budget does not depend on providers. */
export type PriceUsage = (modelId: string, usage: BilledTokens) => { costUsd: number; isPriceKnown: boolean };

export interface UnknownPriceRates {
  inputUsdPerMillionTokens: number;
  outputUsdPerMillionTokens: number;
}

/**
 * What a call to a model missing from the price table is reserved at: the dearest list price in the
 * table, read from it. Guessing cheap would let unknown models spend past the cap; a model that
 * is really free (a local one) belongs in the price table at zero.
 */
export const DEFAULT_UNKNOWN_PRICE_RATES: UnknownPriceRates = highestPriceRates();

export interface EstimateCallCostOptions {
  modelId: string;
  /** The whole prompt about to be sent. */
  inputTokens: number;
  /** The call's output limit: the most it can be billed for. */
  maxOutputTokens: number;
  priceUsage: PriceUsage;
  unknownPriceRates?: UnknownPriceRates;
}

export interface CallCostEstimate {
  costUsd: number;
  isPriceKnown: boolean;
}

/**
 * An upper bound on one call's cost, to size its reservation: every output token the limit allows,
 * and the prompt priced at whichever is dearer of plain input and cache writes (whether the
 * provider caches it is not known before the call; cache reads are always cheaper).
 */
export function estimateCallCostUsd(options: EstimateCallCostOptions): CallCostEstimate {
  const { modelId, inputTokens, maxOutputTokens } = options;
  const asInput = options.priceUsage(modelId, {
    inputTokens,
    outputTokens: maxOutputTokens,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  });
  if (!asInput.isPriceKnown) {
    const rates = options.unknownPriceRates ?? DEFAULT_UNKNOWN_PRICE_RATES;
    const costUsd =
      (inputTokens * rates.inputUsdPerMillionTokens + maxOutputTokens * rates.outputUsdPerMillionTokens) /
      1_000_000;
    return { costUsd, isPriceKnown: false };
  }
  const asCacheWrite = options.priceUsage(modelId, {
    inputTokens: 0,
    outputTokens: maxOutputTokens,
    cacheReadTokens: 0,
    cacheWriteTokens: inputTokens,
  });
  return { costUsd: Math.max(asInput.costUsd, asCacheWrite.costUsd), isPriceKnown: true };
}
