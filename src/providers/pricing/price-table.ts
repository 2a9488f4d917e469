/** USD per million tokens for each kind of token a call is billed for. */
export interface TokenRates {
  inputUsdPerMillionTokens: number;
  outputUsdPerMillionTokens: number;
  cacheReadUsdPerMillionTokens: number;
  /** Anthropic bills prompt-cache writes (5-minute TTL rate here); OpenAI does not, so 0. */
  cacheWriteUsdPerMillionTokens: number;
}

export interface ModelPrice extends TokenRates {
  /**
   * Some models bill *every* token of a request at higher rates once its prompt (input + cache
   * reads + cache writes) passes a threshold.
   */
  longPrompt?: TokenRates & { thresholdTokens: number };
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

function rates(input: number, output: number, cacheRead: number, cacheWrite: number): TokenRates {
  return {
    inputUsdPerMillionTokens: input,
    outputUsdPerMillionTokens: output,
    cacheReadUsdPerMillionTokens: cacheRead,
    cacheWriteUsdPerMillionTokens: cacheWrite,
  };
}

const opusCurrent = rates(5, 25, 0.5, 6.25);
const opusLegacy = rates(15, 75, 1.5, 18.75);
const sonnetFour = rates(3, 15, 0.3, 3.75);

/**
 * Published list prices (standard tier, no batch discount) from the providers' pricing pages,
 * checked 2026-11. Keys are model ids without a date suffix; `findModelPrice` strips one.
 * A model missing here is priced as unknown, never as free: add it (or pass a table from the
 * configuration) rather than guessing. Prices change: when a provider changes one, change it here.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = {
  // Anthropic. Opus 5.5 and Sonnet 5.5 read the cache at 5% of the input rate, older models at 10%.
  'claude-fable-5-1': rates(10, 50, 0.25, 12.5),
  'claude-fable-5': rates(10, 50, 1, 12.5),
  'claude-opus-5-5': rates(4, 20, 0.2, 5),
  'claude-opus-5': opusCurrent,
  'claude-opus-4-8': opusCurrent,
  'claude-opus-4-7': opusCurrent,
  'claude-opus-4-6': opusCurrent,
  'claude-opus-4-5': opusCurrent,
  'claude-opus-4-1': opusLegacy,
  'claude-opus-4-0': opusLegacy,
  'claude-opus-4': opusLegacy,
  'claude-sonnet-5-5': rates(2, 10, 0.1, 2.5),
  'claude-sonnet-5': rates(2, 10, 0.2, 2.5),
  'claude-sonnet-4-6': sonnetFour,
  'claude-sonnet-4-5': sonnetFour,
  'claude-sonnet-4-0': sonnetFour,
  'claude-sonnet-4': sonnetFour,
  'claude-haiku-5-5': {
    ...rates(0.1, 0.5, 0.01, 0.125),
    longPrompt: { thresholdTokens: 100_000, ...rates(0.5, 2.5, 0.05, 0.625) },
  },
  'claude-haiku-4-5': rates(1, 5, 0.1, 1.25),

  // OpenAI (short-context rates; prompt caching is automatic and writes are not billed).
  'gpt-5.5': rates(5, 30, 0.5, 0),
  'gpt-5.4': rates(2.5, 15, 0.25, 0),
  'gpt-5.4-mini': rates(0.75, 4.5, 0.075, 0),
  'gpt-5.4-nano': rates(0.2, 1.25, 0.02, 0),

  // The scripted model runs no model at all: its price is known, and it is zero.
  scripted: rates(0, 0, 0, 0),
};
