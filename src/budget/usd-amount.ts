/**
 * Money is kept as integer nano-dollars (1e-9 USD) inside the budget, so that "spent + reserved +
 * estimate <= cap" is exact: in floating-point dollars 0.1 + 0.2 > 0.3, and a reservation that
 * lands exactly on the cap would be refused. Integers also map one-to-one onto a store's INTEGER /
 * BIGINT columns, so a SQL adapter makes the same comparison the in-memory ledger makes.
 *
 * Number.MAX_SAFE_INTEGER nano-dollars is about 9 million USD, far above any cap we accept.
 */
export const NANO_USD_PER_USD = 1_000_000_000;

export function toNanoUsd(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD);
}

export function fromNanoUsd(nanoUsd: number): number {
  return nanoUsd / NANO_USD_PER_USD;
}

/** `$1.23` for amounts of a cent or more, more digits below that so small calls do not read as `$0.00`. */
export function formatUsd(usd: number): string {
  if (usd === 0 || Math.abs(usd) >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}
