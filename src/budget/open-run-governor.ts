import type { Store } from '../store/index.ts';
import { BudgetGovernor, parseBudgetCapUsd } from './budget-governor.ts';
import { fromNanoUsd, toNanoUsd } from './usd-amount.ts';

export interface RunGovernorRequest {
  runId: string;
  /**
   * The cap this session decided (`--budget`, LOKI_BUDGET_USD, the configuration, the run's
   * settings); null for no cap. It becomes the cap stored with the run. Omitted (a worker joining
   * the run): the cap stored with the run is enforced.
   */
  capUsd?: number | null;
}

export interface RunGovernor {
  governor: BudgetGovernor;
  /** The cap enforced; null for none. */
  capUsd: number | null;
  /** What the run had spent when this process opened it: its earlier sessions and, shared, other workers. */
  spentUsd: number;
  /** True when the ledger lives in the store, shared with every process and machine of the run. */
  isShared: boolean;
}

/** Task id under which spend recorded before the run had a ledger is charged. */
const EARLIER_SESSIONS = 'earlier-sessions';

/**
 * The run's budget governor for this process: over the store's shared ledger when the store keeps
 * one (PostgreSQL: every worker on every machine reserves against the same cap), else in memory
 * (SQLite: one process owns the run). `loki run` / `loki resume` and `loki worker` both build it here.
 *
 * A resumed run's cap counts what it spent before. In a shared ledger that spend is already there;
 * an in-memory ledger, and a shared one opened for the first time on a run that spent before it had
 * one, are charged the run's `usage.recorded` events (the record of every call it paid for).
 */
export async function openRunGovernor(store: Store, request: RunGovernorRequest): Promise<RunGovernor> {
  const decidedCapUsd =
    request.capUsd === undefined ? undefined : (parseBudgetCapUsd(request.capUsd) ?? null);
  if (store.openBudgetLedger !== undefined) {
    const shared = await store.openBudgetLedger(
      request.runId,
      decidedCapUsd === undefined
        ? undefined
        : { capNanoUsd: decidedCapUsd === null ? null : toNanoUsd(decidedCapUsd) },
    );
    const capUsd = shared.capNanoUsd === null ? null : fromNanoUsd(shared.capNanoUsd);
    const governor = new BudgetGovernor({ capUsd: capUsd ?? undefined, ledger: shared.ledger });
    if (shared.isNew) await chargeEarlierSpend(store, governor, request.runId);
    return { governor, capUsd, spentUsd: (await governor.summary()).spentUsd, isShared: true };
  }
  const capUsd =
    decidedCapUsd !== undefined
      ? decidedCapUsd
      : ((await store.getRun(request.runId))?.settings?.budgetUsd ?? null);
  const governor = new BudgetGovernor({ capUsd: capUsd ?? undefined });
  const spentUsd = await chargeEarlierSpend(store, governor, request.runId);
  return { governor, capUsd, spentUsd, isShared: false };
}

async function chargeEarlierSpend(store: Store, governor: BudgetGovernor, runId: string): Promise<number> {
  let spentUsd = 0;
  for (const event of await store.listEvents({ runId, types: ['usage.recorded'] })) {
    if (event.type === 'usage.recorded') spentUsd += event.data.costUsd;
  }
  if (spentUsd > 0)
    await governor.record({ taskId: EARLIER_SESSIONS, costUsd: spentUsd, isPriceKnown: true });
  return spentUsd;
}
