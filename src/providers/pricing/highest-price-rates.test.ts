import { describe, expect, it } from 'vitest';
import { highestPriceRates } from './highest-price-rates.ts';

const flat = (input: number, output: number) => ({
  inputUsdPerMillionTokens: input,
  outputUsdPerMillionTokens: output,
  cacheReadUsdPerMillionTokens: 0,
  cacheWriteUsdPerMillionTokens: 0,
});

describe('highestPriceRates', () => {
  it('takes the dearest input and output rates, long-prompt rates included', () => {
    expect(
      highestPriceRates({
        cheap: flat(1, 2),
        dear: flat(10, 20),
        banded: { ...flat(3, 30), longPrompt: { ...flat(12, 25), thresholdTokens: 100_000 } },
      }),
    ).toEqual({ inputUsdPerMillionTokens: 12, outputUsdPerMillionTokens: 30 });
  });
});
