import { describe, expect, it } from 'vitest';
import { isLokiError, LokiError } from '../errors/index.ts';
import { BudgetGovernor, parseBudgetCapUsd } from './budget-governor.ts';
import type {
  BudgetLedger,
  LedgerReservationRequest,
  LedgerReserveOutcome,
  LedgerSettlement,
  LedgerTotals,
} from './budget-ledger.ts';
import { InMemoryBudgetLedger } from './in-memory-budget-ledger.ts';

function sequentialIds(): (prefix: string) => string {
  let next = 0;
  return (prefix) => `${prefix}-${++next}`;
}

async function caught(promise: Promise<unknown>): Promise<LokiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isLokiError(error)) throw new Error(`expected a LokiError, got ${String(error)}`);
  return error;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing interleaving can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Wraps a ledger so every operation first yields a random number of microtasks: calls from many
 * agents reach the ledger in a shuffled order, interleaved with each other's settles and releases,
 * as they would over a network. A governor that read the totals and then reserved in a second step
 * would over-commit here.
 */
class InterleavingLedger implements BudgetLedger {
  readonly #inner: BudgetLedger;
  readonly #random: () => number;
  constructor(inner: BudgetLedger, seed: number) {
    this.#inner = inner;
    this.#random = seededRandom(seed);
  }
  async #yield(): Promise<void> {
    const turns = Math.floor(this.#random() * 8);
    for (let turn = 0; turn < turns; turn += 1) await Promise.resolve();
  }
  async tryReserve(
    request: LedgerReservationRequest,
    cap: number | undefined,
  ): Promise<LedgerReserveOutcome> {
    await this.#yield();
    return this.#inner.tryReserve(request, cap);
  }
  async settle(settlement: LedgerSettlement): Promise<boolean> {
    await this.#yield();
    return this.#inner.settle(settlement);
  }
  async release(reservationId: string): Promise<boolean> {
    await this.#yield();
    return this.#inner.release(reservationId);
  }
  async totals(): Promise<LedgerTotals> {
    await this.#yield();
    return this.#inner.totals();
  }
}

describe('BudgetGovernor', () => {
  describe('the cap', () => {
    it('allows a reservation that lands exactly on the cap and refuses a cent over', async () => {
      const governor = new BudgetGovernor({ capUsd: 0.3 });
      // In floating-point dollars 0.1 + 0.2 > 0.3; the governor must still grant both.
      await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.1 });
      await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.2 });
      expect((await governor.summary()).remainingUsd).toBe(0);
      const error = await caught(governor.reserve({ taskId: 'task-b', estimatedCostUsd: 0.01 }));
      expect(error.code).toBe('BUDGET_EXHAUSTED');
    });

    it('refuses a single call a cent above the cap, and grants one exactly at it', async () => {
      const governor = new BudgetGovernor({ capUsd: 5 });
      await caught(governor.reserve({ taskId: 'task-a', estimatedCostUsd: 5.01 }));
      await expect(governor.reserve({ taskId: 'task-a', estimatedCostUsd: 5 })).resolves.toMatchObject({
        taskId: 'task-a',
        estimatedCostUsd: 5,
      });
    });

    it('throws a user error with exit code 4 that says what was spent and how to continue', async () => {
      const governor = new BudgetGovernor({ capUsd: 1, createId: sequentialIds() });
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.8 });
      await governor.settle(reservation, 0.75, { isPriceKnown: true });
      await governor.reserve({ taskId: 'task-b', estimatedCostUsd: 0.2 });
      const error = await caught(governor.reserve({ taskId: 'task-c', estimatedCostUsd: 0.1 }));
      expect(error).toMatchObject({
        code: 'BUDGET_EXHAUSTED',
        category: 'user',
        exitCode: 4,
        isRetryable: false,
      });
      expect(error.context).toEqual({
        capUsd: 1,
        spentUsd: 0.75,
        reservedUsd: 0.2,
        estimatedCostUsd: 0.1,
        taskId: 'task-c',
      });
      expect(error.message).toContain('$1.00');
      expect(error.message).toContain('$0.75 spent');
      expect(error.message).toContain('--budget');
    });

    it('tracks spend without limit when there is no cap', async () => {
      const governor = new BudgetGovernor();
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 500_000 });
      await governor.settle(reservation, 12.5, { isPriceKnown: true });
      expect(await governor.summary()).toEqual({
        capUsd: undefined,
        spentUsd: 12.5,
        reservedUsd: 0,
        remainingUsd: undefined,
        byTask: { 'task-a': 12.5 },
        unknownPriceCalls: 0,
      });
    });
  });

  describe('concurrency', () => {
    it('grants exactly as many equal reservations as fit when they all race for the cap', async () => {
      const governor = new BudgetGovernor({
        capUsd: 5,
        ledger: new InterleavingLedger(new InMemoryBudgetLedger(), 7),
      });
      const results = await Promise.allSettled(
        Array.from({ length: 120 }, (_, index) =>
          governor.reserve({ taskId: `task-${index}`, estimatedCostUsd: 0.1 }),
        ),
      );
      const granted = results.filter((result) => result.status === 'fulfilled');
      const refused = results.filter((result) => result.status === 'rejected');
      expect(granted).toHaveLength(50);
      expect(refused).toHaveLength(70);
      for (const result of refused) expect(result.reason).toMatchObject({ code: 'BUDGET_EXHAUSTED' });
      expect(await governor.summary()).toMatchObject({ reservedUsd: 5, remainingUsd: 0 });
    });

    for (const seed of [1, 2, 3, 4, 5]) {
      it(`never commits more than the cap while agents reserve, settle and release at once (seed ${seed})`, async () => {
        const capUsd = 3;
        const random = seededRandom(seed * 101);
        const governor = new BudgetGovernor({
          capUsd,
          ledger: new InterleavingLedger(new InMemoryBudgetLedger(), seed),
        });
        let grantedCalls = 0;
        let refusedCalls = 0;
        let worstCommittedUsd = 0;
        let expectedSpentUsd = 0;

        async function agent(agentIndex: number): Promise<void> {
          for (let call = 0; call < 10; call += 1) {
            const estimatedCostUsd = Math.round(random() * 20 + 1) / 100; // $0.01 … $0.21
            let reservation;
            try {
              reservation = await governor.reserve({
                taskId: `task-${agentIndex}`,
                agentType: agentIndex % 2 === 0 ? 'eng-backend' : 'eng-qa',
                estimatedCostUsd,
              });
            } catch (error) {
              if (!isLokiError(error) || error.code !== 'BUDGET_EXHAUSTED') throw error;
              refusedCalls += 1;
              continue;
            }
            grantedCalls += 1;
            const summary = await governor.summary();
            worstCommittedUsd = Math.max(worstCommittedUsd, summary.spentUsd + summary.reservedUsd);
            if (random() < 0.3) {
              await governor.release(reservation);
            } else {
              const actualCostUsd = Math.round(estimatedCostUsd * random() * 100) / 100;
              expectedSpentUsd += actualCostUsd;
              await governor.settle(reservation, actualCostUsd, { isPriceKnown: true });
            }
          }
        }

        await Promise.all(Array.from({ length: 40 }, (_, index) => agent(index)));
        const summary = await governor.summary();
        expect(grantedCalls).toBeGreaterThan(0);
        expect(refusedCalls).toBeGreaterThan(0); // the race did reach the cap
        expect(worstCommittedUsd).toBeLessThanOrEqual(capUsd + 1e-9);
        expect(summary.spentUsd).toBeLessThanOrEqual(capUsd);
        expect(summary.spentUsd).toBeCloseTo(expectedSpentUsd, 9);
        expect(summary.reservedUsd).toBe(0);
        const byTaskTotal = Object.values(summary.byTask).reduce((sum, usd) => sum + usd, 0);
        expect(byTaskTotal).toBeCloseTo(summary.spentUsd, 9);
      });
    }
  });

  describe('settle and release', () => {
    it('replaces the estimate with the actual cost, and frees what a released call reserved', async () => {
      const governor = new BudgetGovernor({ capUsd: 10 });
      const first = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 2 });
      const second = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 3 });
      const third = await governor.reserve({ taskId: 'task-b', estimatedCostUsd: 4 });
      expect(await governor.summary()).toMatchObject({ spentUsd: 0, reservedUsd: 9, remainingUsd: 1 });

      await governor.settle(first, 0.5, { isPriceKnown: true });
      expect(await governor.summary()).toMatchObject({ spentUsd: 0.5, reservedUsd: 7, remainingUsd: 2.5 });

      await governor.release(second);
      expect(await governor.summary()).toMatchObject({ spentUsd: 0.5, reservedUsd: 4, remainingUsd: 5.5 });

      await governor.settle(third, 3.25, { isPriceKnown: true });
      expect(await governor.summary()).toMatchObject({ spentUsd: 3.75, reservedUsd: 0, remainingUsd: 6.25 });

      // What the released and under-spent calls freed can be reserved again.
      await governor.reserve({ taskId: 'task-c', estimatedCostUsd: 6.25 });
      await caught(governor.reserve({ taskId: 'task-c', estimatedCostUsd: 0.01 }));
    });

    it('counts a call that cost more than its estimate, and then refuses new work', async () => {
      const governor = new BudgetGovernor({ capUsd: 1 });
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.9 });
      await governor.settle(reservation, 1.2, { isPriceKnown: true });
      expect(await governor.summary()).toMatchObject({ spentUsd: 1.2, remainingUsd: 0 });
      expect((await caught(governor.reserve({ taskId: 'task-b', estimatedCostUsd: 0 }))).code).toBe(
        'BUDGET_EXHAUSTED',
      );
    });

    it('refuses to settle or release a reservation twice', async () => {
      const governor = new BudgetGovernor({ capUsd: 1 });
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.5 });
      await governor.settle(reservation, 0.25, { isPriceKnown: true });
      expect((await caught(governor.release(reservation))).code).toBe('BUDGET_RESERVATION_CLOSED');
      expect((await caught(governor.settle(reservation, 0.25, { isPriceKnown: true }))).code).toBe(
        'BUDGET_RESERVATION_CLOSED',
      );
      expect((await governor.summary()).spentUsd).toBe(0.25);
    });

    it('rejects amounts that are not costs', async () => {
      const governor = new BudgetGovernor({ capUsd: 1 });
      for (const estimatedCostUsd of [-0.01, Number.NaN, Number.POSITIVE_INFINITY]) {
        const error = await caught(governor.reserve({ taskId: 'task-a', estimatedCostUsd }));
        expect(error).toMatchObject({ code: 'BUDGET_AMOUNT_INVALID', category: 'internal' });
      }
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.5 });
      expect((await caught(governor.settle(reservation, -1, { isPriceKnown: true }))).code).toBe(
        'BUDGET_AMOUNT_INVALID',
      );
      expect((await governor.summary()).reservedUsd).toBe(0.5);
    });
  });

  describe('unknown prices', () => {
    it('charges the estimate for a call whose price is unknown and reports it', async () => {
      const governor = new BudgetGovernor({ capUsd: 2 });
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.6 });
      await governor.settle(reservation, 0, { isPriceKnown: false });
      const known = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.6 });
      await governor.settle(known, 0.1, { isPriceKnown: true });
      expect(await governor.summary()).toMatchObject({
        spentUsd: 0.7,
        byTask: { 'task-a': 0.7 },
        unknownPriceCalls: 1,
        remainingUsd: 1.3,
      });
    });

    it('charges the reported figure when it is above the estimate', async () => {
      const governor = new BudgetGovernor();
      const reservation = await governor.reserve({ taskId: 'task-a', estimatedCostUsd: 0.6 });
      await governor.settle(reservation, 0.8, { isPriceKnown: false });
      expect(await governor.summary()).toMatchObject({ spentUsd: 0.8, unknownPriceCalls: 1 });
    });
  });

  describe('summary', () => {
    it('says how much was spent on which task and which agent type', async () => {
      const governor = new BudgetGovernor({ capUsd: 10 });
      const calls: [string, string | undefined, number][] = [
        ['task-1', 'eng-backend', 0.25],
        ['task-1', 'eng-backend', 0.5],
        ['task-2', 'eng-frontend', 1],
        ['task-3', 'eng-qa', 0.125],
        ['phase:discovery', undefined, 2],
      ];
      for (const [taskId, agentType, actualCostUsd] of calls) {
        const reservation = await governor.reserve({ taskId, agentType, estimatedCostUsd: 2 });
        await governor.settle(reservation, actualCostUsd, { isPriceKnown: true });
      }
      await governor.reserve({ taskId: 'task-4', agentType: 'eng-backend', estimatedCostUsd: 1 });
      expect(await governor.summary()).toEqual({
        capUsd: 10,
        spentUsd: 3.875,
        reservedUsd: 1,
        remainingUsd: 5.125,
        byTask: { 'task-1': 0.75, 'task-2': 1, 'task-3': 0.125, 'phase:discovery': 2 },
        byAgentType: { 'eng-backend': 0.75, 'eng-frontend': 1, 'eng-qa': 0.125 },
        unknownPriceCalls: 0,
      });
    });
  });
});

describe('parseBudgetCapUsd', () => {
  it('accepts positive amounts as numbers or text, and nothing for no cap', () => {
    expect(parseBudgetCapUsd(undefined)).toBeUndefined();
    expect(parseBudgetCapUsd(5)).toBe(5);
    expect(parseBudgetCapUsd('2.50')).toBe(2.5);
    expect(parseBudgetCapUsd(' 0.01 ')).toBe(0.01);
  });

  for (const value of [
    0,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    'abc',
    '',
    '5usd',
    '-3',
    '1e3',
    2_000_000,
    {},
  ]) {
    it(`refuses ${typeof value === 'string' ? JSON.stringify(value) : String(value)} with a usage error naming both settings`, () => {
      let error: unknown;
      try {
        parseBudgetCapUsd(value);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(LokiError);
      expect(error).toMatchObject({ code: 'BUDGET_INVALID', category: 'user', exitCode: 2 });
      expect((error as LokiError).message).toContain('--budget');
      expect((error as LokiError).message).toContain('LOKI_BUDGET_USD');
    });
  }

  it('is applied when a governor is built', () => {
    expect(() => new BudgetGovernor({ capUsd: 0 })).toThrow(/--budget/);
  });
});
