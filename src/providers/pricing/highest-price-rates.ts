import { DEFAULT_PRICE_TABLE, type PriceTable } from './price-table.ts';

/**
 * The dearest input and output rates in a price table (long-prompt rates included): what a model
 * missing from the table is assumed to cost when a worst case is needed, e.g. by the budget.
 */
export function highestPriceRates(table: PriceTable = DEFAULT_PRICE_TABLE): {
  inputUsdPerMillionTokens: number;
  outputUsdPerMillionTokens: number;
} {
  let input = 0;
  let output = 0;
  for (const price of Object.values(table)) {
    input = Math.max(input, price.inputUsdPerMillionTokens, price.longPrompt?.inputUsdPerMillionTokens ?? 0);
    output = Math.max(
      output,
      price.outputUsdPerMillionTokens,
      price.longPrompt?.outputUsdPerMillionTokens ?? 0,
    );
  }
  return { inputUsdPerMillionTokens: input, outputUsdPerMillionTokens: output };
}
