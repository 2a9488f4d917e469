/**
 * The conformance suite every BudgetLedger adapter must pass (in memory now; a store-backed one
 * for multi-machine runs next). Adapters import this file directly; it is not part of index.ts so
 * that production code never loads vitest.
 */
import { describe, expect, it } from 'vitest';
import type { BudgetLedger, LedgerReservationRequest } from './budget-ledger.ts';

/** Opens an empty ledger for a fresh run. */
export type OpenBudgetLedger = () => Promise<BudgetLedger>;

function request(
  reservationId: string,
  estimatedNanoUsd: number,
  overrides: Partial<LedgerReservationRequest> = {},
): LedgerReservationRequest {
  return { reservationId, taskId: 'task-a', agentType: undefined, estimatedNanoUsd, ...overrides };
}

export function describeBudgetLedgerConformance(adapterName: string, openLedger: OpenBudgetLedger): void {
  describe(`BudgetLedger conformance: ${adapterName}`, () => {
    it('grants up to the cap inclusive and refuses one nano-dollar more', async () => {
      const ledger = await openLedger();
      expect(await ledger.tryReserve(request('r1', 600), 1000)).toEqual({ isGranted: true });
      expect(await ledger.tryReserve(request('r2', 401), 1000)).toEqual({
        isGranted: false,
        spentNanoUsd: 0,
        reservedNanoUsd: 600,
      });
      expect(await ledger.tryReserve(request('r3', 400), 1000)).toEqual({ isGranted: true });
      expect(await ledger.totals()).toMatchObject({ spentNanoUsd: 0, reservedNanoUsd: 1000 });
    });

    it('grants everything without a cap', async () => {
      const ledger = await openLedger();
      expect(await ledger.tryReserve(request('r1', 5e15), undefined)).toEqual({ isGranted: true });
      expect((await ledger.totals()).reservedNanoUsd).toBe(5e15);
    });

    it('moves a settled reservation from reserved to spent, per task and agent type', async () => {
      const ledger = await openLedger();
      await ledger.tryReserve(request('r1', 500, { taskId: 'task-a', agentType: 'eng-backend' }), 1000);
      await ledger.tryReserve(request('r2', 300, { taskId: 'task-b' }), 1000);
      expect(await ledger.settle({ reservationId: 'r1', chargedNanoUsd: 120, isPriceKnown: true })).toBe(
        true,
      );
      expect(await ledger.settle({ reservationId: 'r2', chargedNanoUsd: 300, isPriceKnown: false })).toBe(
        true,
      );
      expect(await ledger.totals()).toEqual({
        spentNanoUsd: 420,
        reservedNanoUsd: 0,
        spentNanoUsdByTask: { 'task-a': 120, 'task-b': 300 },
        spentNanoUsdByAgentType: { 'eng-backend': 120 },
        unknownPriceCalls: 1,
      });
    });

    it('frees a released reservation and refuses to close a reservation twice', async () => {
      const ledger = await openLedger();
      await ledger.tryReserve(request('r1', 1000), 1000);
      expect(await ledger.release('r1')).toBe(true);
      expect(await ledger.release('r1')).toBe(false);
      expect(await ledger.settle({ reservationId: 'r1', chargedNanoUsd: 5, isPriceKnown: true })).toBe(false);
      expect(await ledger.release('never-reserved')).toBe(false);
      expect(await ledger.totals()).toMatchObject({ spentNanoUsd: 0, reservedNanoUsd: 0 });
      expect(await ledger.tryReserve(request('r2', 1000), 1000)).toEqual({ isGranted: true });
    });

    it('counts settled spend against the cap', async () => {
      const ledger = await openLedger();
      await ledger.tryReserve(request('r1', 800), 1000);
      await ledger.settle({ reservationId: 'r1', chargedNanoUsd: 700, isPriceKnown: true });
      expect(await ledger.tryReserve(request('r2', 301), 1000)).toMatchObject({ isGranted: false });
      expect(await ledger.tryReserve(request('r3', 300), 1000)).toEqual({ isGranted: true });
    });

    it('never over-commits when many reservations race for the cap', async () => {
      const ledger = await openLedger();
      const cap = 10_000;
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          ledger.tryReserve(request(`r${index}`, 70 + (index % 7)), cap),
        ),
      );
      const granted = outcomes.filter((outcome) => outcome.isGranted).length;
      const totals = await ledger.totals();
      expect(totals.reservedNanoUsd).toBeLessThanOrEqual(cap);
      // Every refused request asked for at least 70 while less than that was left: no under-commit either.
      expect(cap - totals.reservedNanoUsd).toBeLessThan(76);
      expect(granted).toBeGreaterThan(0);
    });
  });
}
