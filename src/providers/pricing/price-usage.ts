import type { LanguageModelUsage } from 'ai';
import { DEFAULT_PRICE_TABLE, type ModelPrice, type PriceTable, type TokenRates } from './price-table.ts';

/**
 * Tokens billed for one call, split the way providers bill them. `inputTokens` excludes cache
 * reads and writes (Anthropic's convention), so the three input counts add up to the prompt.
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface PricedUsage {
  costUsd: number;
  /** False when the model is not in the price table: `costUsd` is then 0 but means "unknown". */
  isPriceKnown: boolean;
}

/** Converts the AI SDK's usage (whose `inputTokens` is the whole prompt) into billed token kinds. */
export function tokenUsageFromLanguageModelUsage(usage: LanguageModelUsage): TokenUsage {
  const cacheReadTokens = usage.inputTokenDetails.cacheReadTokens ?? 0;
  const cacheWriteTokens = usage.inputTokenDetails.cacheWriteTokens ?? 0;
  const inputTokens =
    usage.inputTokenDetails.noCacheTokens ??
    Math.max(0, (usage.inputTokens ?? 0) - cacheReadTokens - cacheWriteTokens);
  return { inputTokens, outputTokens: usage.outputTokens ?? 0, cacheReadTokens, cacheWriteTokens };
}

/** A dated snapshot (`claude-haiku-4-5-20251001`, `gpt-5.4-2026-03-05`) costs what its alias costs. */
const DATE_SUFFIX = /-(?:\d{8}|\d{4}-\d{2}-\d{2})$/;

export function findModelPrice(
  modelId: string,
  priceTable: PriceTable = DEFAULT_PRICE_TABLE,
): ModelPrice | undefined {
  const exact = Object.hasOwn(priceTable, modelId) ? priceTable[modelId] : undefined;
  if (exact !== undefined) return exact;
  const alias = modelId.replace(DATE_SUFFIX, '');
  return alias !== modelId && Object.hasOwn(priceTable, alias) ? priceTable[alias] : undefined;
}

export function priceUsage(
  modelId: string,
  usage: TokenUsage,
  priceTable: PriceTable = DEFAULT_PRICE_TABLE,
): PricedUsage {
  const price = findModelPrice(modelId, priceTable);
  if (price === undefined) return { costUsd: 0, isPriceKnown: false };
  const promptTokens = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  const longPrompt = price.longPrompt;
  const applicable: TokenRates =
    longPrompt !== undefined && promptTokens > longPrompt.thresholdTokens ? longPrompt : price;
  const costUsd =
    (usage.inputTokens * applicable.inputUsdPerMillionTokens +
      usage.outputTokens * applicable.outputUsdPerMillionTokens +
      usage.cacheReadTokens * applicable.cacheReadUsdPerMillionTokens +
      usage.cacheWriteTokens * applicable.cacheWriteUsdPerMillionTokens) /
    1_000_000;
  return { costUsd, isPriceKnown: true };
}
