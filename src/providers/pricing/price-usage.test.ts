import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_TABLE } from './price-table.ts';
import { findModelPrice, priceUsage, tokenUsageFromLanguageModelUsage } from './price-usage.ts';

const usage = { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('priceUsage', () => {
  it('prices every kind of token at its own rate', () => {
    const priced = priceUsage('claude-opus-5-5', {
      inputTokens: 10_000,
      outputTokens: 2_000,
      cacheReadTokens: 50_000,
      cacheWriteTokens: 4_000,
    });
    expect(priced.isPriceKnown).toBe(true);
    expect(priced.costUsd).toBeCloseTo((10_000 * 4 + 2_000 * 20 + 50_000 * 0.2 + 4_000 * 5) / 1_000_000, 12);
  });

  it('bills Anthropic cache writes at 1.25 × input and cache reads at a tenth of input or less', () => {
    const anthropic = Object.entries(DEFAULT_PRICE_TABLE).filter(([modelId]) =>
      modelId.startsWith('claude-'),
    );
    expect(anthropic.length).toBeGreaterThan(10);
    for (const [, price] of anthropic) {
      for (const rates of [price, ...(price.longPrompt === undefined ? [] : [price.longPrompt])]) {
        expect(rates.cacheWriteUsdPerMillionTokens).toBeCloseTo(rates.inputUsdPerMillionTokens * 1.25, 12);
        expect(rates.cacheReadUsdPerMillionTokens).toBeGreaterThan(0);
        expect(rates.cacheReadUsdPerMillionTokens).toBeLessThanOrEqual(rates.inputUsdPerMillionTokens * 0.1);
      }
    }
  });

  it('makes a prompt read from cache cost a fraction of the same prompt sent uncached', () => {
    const uncached = priceUsage('claude-sonnet-4-6', { ...usage, inputTokens: 50_000, outputTokens: 0 });
    const written = priceUsage('claude-sonnet-4-6', {
      ...usage,
      cacheWriteTokens: 50_000,
      inputTokens: 0,
      outputTokens: 0,
    });
    const read = priceUsage('claude-sonnet-4-6', {
      ...usage,
      cacheReadTokens: 50_000,
      inputTokens: 0,
      outputTokens: 0,
    });
    expect(uncached.costUsd).toBeCloseTo(0.15, 12);
    expect(written.costUsd).toBeCloseTo(0.1875, 12);
    expect(read.costUsd).toBeCloseTo(0.015, 12);
  });

  it('flags an unknown model instead of calling it free', () => {
    expect(priceUsage('my-local-llama', usage)).toEqual({ costUsd: 0, isPriceKnown: false });
  });

  it('prices the scripted model at zero, and knows it', () => {
    expect(priceUsage('scripted', usage)).toEqual({ costUsd: 0, isPriceKnown: true });
  });

  it('prices a dated snapshot like its alias', () => {
    expect(findModelPrice('claude-haiku-4-5-20251001')).toBe(findModelPrice('claude-haiku-4-5'));
    expect(findModelPrice('gpt-5.4-2026-03-05')).toBe(findModelPrice('gpt-5.4'));
    expect(findModelPrice('claude-haiku-4-5-20251001')).toBeDefined();
  });

  it('bills every token of a long prompt at the long-prompt rates where a model has them', () => {
    const short = priceUsage('claude-haiku-5-5', { ...usage, inputTokens: 100_000, outputTokens: 1_000 });
    const long = priceUsage('claude-haiku-5-5', { ...usage, inputTokens: 100_001, outputTokens: 1_000 });
    expect(short.costUsd).toBeCloseTo((100_000 * 0.1 + 1_000 * 0.5) / 1_000_000, 12);
    expect(long.costUsd).toBeCloseTo((100_001 * 0.5 + 1_000 * 2.5) / 1_000_000, 12);
  });

  it('takes a custom price table from the configuration', () => {
    const table = {
      'qwen2.5-coder': {
        inputUsdPerMillionTokens: 0,
        outputUsdPerMillionTokens: 0,
        cacheReadUsdPerMillionTokens: 0,
        cacheWriteUsdPerMillionTokens: 0,
      },
    };
    expect(priceUsage('qwen2.5-coder', usage, table)).toEqual({ costUsd: 0, isPriceKnown: true });
    expect(priceUsage('claude-opus-5-5', usage, table).isPriceKnown).toBe(false);
  });
});

describe('tokenUsageFromLanguageModelUsage', () => {
  it('splits the AI SDK prompt total into uncached, cache-read and cache-write tokens', () => {
    expect(
      tokenUsageFromLanguageModelUsage({
        inputTokens: 1600,
        inputTokenDetails: { noCacheTokens: 1000, cacheReadTokens: 500, cacheWriteTokens: 100 },
        outputTokens: 200,
        outputTokenDetails: { textTokens: 200, reasoningTokens: undefined },
        totalTokens: 1800,
      }),
    ).toEqual({ inputTokens: 1000, outputTokens: 200, cacheReadTokens: 500, cacheWriteTokens: 100 });
  });

  it('derives uncached tokens when a provider reports only totals, and reads missing counts as zero', () => {
    expect(
      tokenUsageFromLanguageModelUsage({
        inputTokens: 900,
        inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: 300, cacheWriteTokens: undefined },
        outputTokens: undefined,
        outputTokenDetails: { textTokens: undefined, reasoningTokens: undefined },
        totalTokens: undefined,
      }),
    ).toEqual({ inputTokens: 600, outputTokens: 0, cacheReadTokens: 300, cacheWriteTokens: 0 });
  });
});
