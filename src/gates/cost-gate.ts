import type { GateResult } from './gate.ts';

/** What the run spent, from the budget ledger. */
export interface RunSpend {
  spentUsd: number;
  capUsd: number | undefined;
  /** Calls of a model with no known price: counted at an estimate. */
  unknownPriceCalls: number;
}

/** A projected monthly hosting cost: a range, and the assumption it rests on, in words. */
export interface HostingProjection {
  lowUsdPerMonth: number;
  highUsdPerMonth: number;
  basis: string;
}

/**
 * The assumption behind a cloud projection: one small always-on instance (about 1 vCPU, 1 GiB) at
 * the list prices of mainstream hosts, which span roughly this range per month. It is a planning
 * figure, not a quote: Loki knows neither the host nor the traffic, and says so in the basis.
 */
export const SMALL_INSTANCE_USD_PER_MONTH = { low: 5, high: 25 } as const;

/**
 * The projection for what the run built: nothing to host for a product that is not a service; for
 * a service, $0 on the local target (it runs on this machine) and the small-instance range if it is
 * moved to a cloud host.
 */
export function projectHostingCost(isService: boolean): HostingProjection {
  if (!isService) {
    return {
      lowUsdPerMonth: 0,
      highUsdPerMonth: 0,
      basis: 'not a service (no start command): nothing to host',
    };
  }
  return {
    lowUsdPerMonth: 0,
    highUsdPerMonth: SMALL_INSTANCE_USD_PER_MONTH.high,
    basis: `$0 on the local target (it runs on this machine); about $${SMALL_INSTANCE_USD_PER_MONTH.low}–$${SMALL_INSTANCE_USD_PER_MONTH.high} a month on one small always-on cloud instance (1 vCPU, 1 GiB) at common list prices: an assumption, not a quote, since Loki knows neither the host nor the traffic`,
  };
}

/**
 * The cost gate: the run's spend from the budget ledger, against its cap, with the hosting
 * projection. Fails when the spend went past the cap (an agent CLI's last turn can overshoot);
 * not proven when there is no run whose spend is known.
 */
export function evaluateCostGate(spend: RunSpend | null, hosting: HostingProjection): GateResult {
  const projection = `projected hosting $${hosting.lowUsdPerMonth}–$${hosting.highUsdPerMonth}/month (${hosting.basis})`;
  const evidence = {
    command: null,
    exitCode: null,
    durationMilliseconds: 0,
    counts: null,
    outputExcerpt: projection,
    files: [],
  };
  if (spend === null) {
    return {
      gate: 'cost',
      verdict: 'not-proven',
      reason: `no Loki run here: the spend is unknown; ${projection}`,
      evidence,
    };
  }
  const estimated =
    spend.unknownPriceCalls > 0
      ? ` (${spend.unknownPriceCalls} call(s) of a model with no known price counted at an estimate)`
      : '';
  const spent = `spent $${spend.spentUsd.toFixed(4)}${spend.capUsd === undefined ? ' (no cap)' : ` of a $${spend.capUsd.toFixed(2)} cap`}${estimated}`;
  const isOverCap = spend.capUsd !== undefined && spend.spentUsd > spend.capUsd;
  return {
    gate: 'cost',
    verdict: isOverCap ? 'fail' : 'pass',
    reason: `${isOverCap ? 'over the cap: ' : ''}${spent}; ${projection}`,
    evidence,
  };
}
