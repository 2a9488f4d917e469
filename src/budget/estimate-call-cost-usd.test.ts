import { describe, expect, it } from 'vitest';
import { priceUsage } from '../providers/index.ts';
import { DEFAULT_UNKNOWN_PRICE_RATES, estimateCallCostUsd } from './estimate-call-cost-usd.ts';

describe('estimateCallCostUsd', () => {
  it('prices the prompt and every output token the limit allows', () => {
    // gpt-5.4: $2.50 in, $15 out per million; no cache-write charge.
    expect(
      estimateCallCostUsd({ modelId: 'gpt-5.4', inputTokens: 100_000, maxOutputTokens: 10_000, priceUsage }),
    ).toEqual({ costUsd: 0.25 + 0.15, isPriceKnown: true });
  });

  it('prices the prompt as cache writes when those are dearer, so the estimate is an upper bound', () => {
    // claude-sonnet-4-5: $3 in, $3.75 cache write, $15 out per million.
    const estimate = estimateCallCostUsd({
      modelId: 'claude-sonnet-4-5',
      inputTokens: 1_000_000,
      maxOutputTokens: 1_000,
      priceUsage,
    });
    expect(estimate.isPriceKnown).toBe(true);
    expect(estimate.costUsd).toBeCloseTo(3.75 + 0.015, 12);
  });

  it('follows long-prompt rates through priceUsage', () => {
    // claude-haiku-5-5 bills every token at the higher rates once the prompt passes 100k tokens.
    const short = estimateCallCostUsd({
      modelId: 'claude-haiku-5-5',
      inputTokens: 100_000,
      maxOutputTokens: 0,
      priceUsage,
    });
    const long = estimateCallCostUsd({
      modelId: 'claude-haiku-5-5',
      inputTokens: 100_001,
      maxOutputTokens: 0,
      priceUsage,
    });
    expect(long.costUsd).toBeGreaterThan(short.costUsd * 4);
  });

  it('reserves a model with no known price at the dearest known rates and says so', () => {
    const estimate = estimateCallCostUsd({
      modelId: 'llama-local',
      inputTokens: 1_000_000,
      maxOutputTokens: 1_000_000,
      priceUsage,
    });
    expect(estimate).toEqual({
      costUsd:
        DEFAULT_UNKNOWN_PRICE_RATES.inputUsdPerMillionTokens +
        DEFAULT_UNKNOWN_PRICE_RATES.outputUsdPerMillionTokens,
      isPriceKnown: false,
    });
    expect(
      estimateCallCostUsd({
        modelId: 'llama-local',
        inputTokens: 1_000_000,
        maxOutputTokens: 0,
        priceUsage,
        unknownPriceRates: { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 2 },
      }).costUsd,
    ).toBe(1);
  });

  it('costs nothing for the scripted model, whose price is known to be zero', () => {
    expect(
      estimateCallCostUsd({ modelId: 'scripted', inputTokens: 5_000, maxOutputTokens: 5_000, priceUsage }),
    ).toEqual({ costUsd: 0, isPriceKnown: true });
  });
});
