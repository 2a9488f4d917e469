import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findPostgresBinaries,
  type PostgresServer,
  usePostgresServer,
} from '../../../test/support/postgres-server.ts';
import { describeBudgetLedgerConformance } from '../../budget/budget-ledger-conformance.ts';
import { BudgetGovernor, toNanoUsd } from '../../budget/index.ts';
import { ManualClock } from '../../clock/index.ts';
import type { NewTask } from '../task-record.ts';
import { PostgresStore } from './postgres-store.ts';

const binaries = findPostgresBinaries();
let startedServer: () => PostgresServer;
let database = '';
const opened: PostgresStore[] = [];

async function openStore(clock?: ManualClock): Promise<PostgresStore> {
  const store = await PostgresStore.open(await startedServer().createSchema(database), {
    poolSize: 4,
    ...(clock === undefined ? {} : { clock }),
  });
  opened.push(store);
  return store;
}

function newTask(id: string): NewTask {
  return {
    id,
    type: 'eng-backend',
    title: id,
    description: '',
    priority: 5,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: 'run-1',
    timeoutSeconds: 60,
    maxAttempts: 3,
  };
}

describe.skipIf('missing' in binaries)(
  `PostgreSQL budget ledger${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    startedServer = usePostgresServer(binaries);
    beforeAll(async () => {
      database = new URL(await startedServer().createDatabase('budget')).pathname.slice(1);
    });
    // Registered after the server's hooks, so it runs before the server stops.
    afterAll(async () => {
      await Promise.all(opened.map((store) => store.close()));
    });

    describeBudgetLedgerConformance('postgres', async () => {
      const store = await openStore();
      return (await store.openBudgetLedger('run-1')).ledger;
    });

    it('stores the cap with the run: a later open without a cap reads it, one with a cap replaces it', async () => {
      const store = await openStore();
      expect(await store.openBudgetLedger('run-1', { capNanoUsd: 5_000 })).toMatchObject({
        capNanoUsd: 5_000,
        isNew: true,
      });
      expect(await store.openBudgetLedger('run-1')).toMatchObject({ capNanoUsd: 5_000, isNew: false });
      expect(await store.openBudgetLedger('run-1', { capNanoUsd: null })).toMatchObject({ capNanoUsd: null });
      expect(await store.openBudgetLedger('run-1')).toMatchObject({ capNanoUsd: null });
      // Another run of the same store has a ledger of its own.
      expect(await store.openBudgetLedger('run-2')).toMatchObject({ capNanoUsd: null, isNew: true });
    });

    it('gives back what a task held when its lease expires; a late settle still charges the call', async () => {
      const clock = new ManualClock(1_000_000);
      const store = await openStore(clock);
      const { ledger } = await store.openBudgetLedger('run-1', { capNanoUsd: toNanoUsd(1) });
      const governor = new BudgetGovernor({ capUsd: 1, ledger });
      await store.insertTasks([newTask('t-dead'), newTask('t-alive')]);
      await store.claimTask({ workerId: 'w-dead', taskId: 't-dead', leaseMilliseconds: 1_000 });
      await store.claimTask({ workerId: 'w-alive', taskId: 't-alive', leaseMilliseconds: 600_000 });
      const dead = await governor.reserve({ taskId: 't-dead', estimatedCostUsd: 0.6 });
      await governor.reserve({ taskId: 't-alive', estimatedCostUsd: 0.3 });
      await expect(governor.reserve({ taskId: 't-alive', estimatedCostUsd: 0.2 })).rejects.toMatchObject({
        code: 'BUDGET_EXHAUSTED',
      });

      clock.advance(1_001);
      // The next claim reclaims the expired lease, and with it the dead worker's reservation.
      await store.claimTask({ workerId: 'w-alive', types: ['none'] });
      expect(await governor.summary()).toMatchObject({ spentUsd: 0, reservedUsd: 0.3 });
      await governor.reserve({ taskId: 't-alive', estimatedCostUsd: 0.2 });

      // The worker was only slow: what its call cost is charged all the same, and counted once.
      await governor.settle(dead, 0.25, { isPriceKnown: true });
      expect(await governor.summary()).toMatchObject({ spentUsd: 0.25, reservedUsd: 0.5 });
      await expect(governor.settle(dead, 0.25, { isPriceKnown: true })).rejects.toMatchObject({
        code: 'BUDGET_RESERVATION_CLOSED',
      });
    });

    it("gives back what a dead coordinator's planning calls held when the next session opens the run with its cap", async () => {
      const store = await openStore();
      const dead = new BudgetGovernor({
        capUsd: 1,
        ledger: (await store.openBudgetLedger('run-1', { capNanoUsd: toNanoUsd(1) })).ledger,
      });
      await store.insertTasks([newTask('t-1')]);
      await store.claimTask({ workerId: 'w-1', taskId: 't-1', leaseMilliseconds: 600_000 });
      // The coordinator died during a planning call (never settled); a worker's task call is open too.
      const planning = await dead.reserve({ taskId: 'phase:planning', estimatedCostUsd: 0.6 });
      await dead.reserve({ taskId: 't-1', estimatedCostUsd: 0.3 });
      // Another run of the store plans at the same time, with the same phase names.
      const other = new BudgetGovernor({
        capUsd: 1,
        ledger: (await store.openBudgetLedger('run-2', { capNanoUsd: toNanoUsd(1) })).ledger,
      });
      await other.reserve({ taskId: 'phase:planning', estimatedCostUsd: 0.4 });

      // The next `loki run` / `loki resume` takes over the run: it decides the cap, and plans.
      const next = new BudgetGovernor({
        capUsd: 1,
        ledger: (await store.openBudgetLedger('run-1', { capNanoUsd: toNanoUsd(1) })).ledger,
      });
      expect(await next.summary()).toMatchObject({ spentUsd: 0, reservedUsd: 0.3 });
      // A worker joining (no cap of its own) takes nothing back.
      await store.openBudgetLedger('run-1');
      expect(await next.summary()).toMatchObject({ reservedUsd: 0.3 });
      // Had the call only been slow, what it cost is still charged, once.
      await dead.settle(planning, 0.5, { isPriceKnown: true });
      expect(await next.summary()).toMatchObject({ spentUsd: 0.5, reservedUsd: 0.3 });
      expect(await other.summary()).toMatchObject({ spentUsd: 0, reservedUsd: 0.4 });
    });

    it('gives back what a released task held', async () => {
      const store = await openStore();
      const { ledger } = await store.openBudgetLedger('run-1', { capNanoUsd: toNanoUsd(1) });
      const governor = new BudgetGovernor({ capUsd: 1, ledger });
      await store.insertTasks([newTask('t-1')]);
      await store.claimTask({ workerId: 'w-1', taskId: 't-1' });
      const reservation = await governor.reserve({ taskId: 't-1', estimatedCostUsd: 0.7 });
      await store.releaseTask('t-1', null, 'taken back by a resumed run');
      expect(await governor.summary()).toMatchObject({ reservedUsd: 0 });
      await governor.release(reservation);
      expect(await governor.summary()).toMatchObject({ spentUsd: 0, reservedUsd: 0, remainingUsd: 1 });
    });
  },
);
