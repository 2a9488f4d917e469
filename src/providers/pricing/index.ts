export { highestPriceRates } from './highest-price-rates.ts';
export { DEFAULT_PRICE_TABLE, type ModelPrice, type PriceTable, type TokenRates } from './price-table.ts';
export {
  findModelPrice,
  type PricedUsage,
  priceUsage,
  type TokenUsage,
  tokenUsageFromLanguageModelUsage,
} from './price-usage.ts';
export { addUsageTotals, emptyUsageTotals, type UsageTotals } from './usage-totals.ts';
