import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBinaries, usePostgresServer } from '../../test/support/postgres-server.ts';
import type { RunSettingsData } from '../events/index.ts';
import { PostgresStore, SqliteStore, type Store } from '../store/index.ts';
import { openRunGovernor } from './open-run-governor.ts';

function settings(budgetUsd: number | null): RunSettingsData {
  return {
    provider: 'scripted',
    models: { planning: null, default: null, fast: null },
    script: null,
    parallel: 2,
    budgetUsd,
    maxTaskAttempts: 3,
    perpetual: false,
    maxIterations: null,
    deploy: true,
    store: { kind: 'test', location: 'test' },
  };
}

/** A run that already paid for two calls in an earlier session (its usage events are the record). */
async function runWithEarlierSpend(store: Store, budgetUsd: number | null): Promise<void> {
  await store.createRun({
    id: 'run-1',
    prdPath: null,
    phase: 'development',
    settings: { settings: settings(budgetUsd), given: [] },
  });
  for (const costUsd of [0.25, 0.5]) {
    await store.appendEvent({
      type: 'usage.recorded',
      runId: 'run-1',
      taskId: 'task-1',
      data: {
        provider: 'scripted',
        model: 'm',
        inputTokens: 1,
        outputTokens: 1,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd,
        isPriceKnown: true,
      },
    });
  }
  // Another run's spend is not this run's.
  await store.appendEvent({
    type: 'usage.recorded',
    runId: 'run-0',
    taskId: null,
    data: {
      provider: 'scripted',
      model: 'm',
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 9,
      isPriceKnown: true,
    },
  });
}

describe('openRunGovernor over a store without a shared ledger (SQLite)', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-run-governor-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it("charges a resumed run's earlier spend and takes the cap the session decided, or the run's", async () => {
    await using store = await SqliteStore.open(join(directory, 'loki.db'));
    await runWithEarlierSpend(store, 2);
    const decided = await openRunGovernor(store, { runId: 'run-1', capUsd: 1 });
    expect(decided).toMatchObject({ capUsd: 1, spentUsd: 0.75, isShared: false });
    expect(await decided.governor.summary()).toMatchObject({ spentUsd: 0.75, remainingUsd: 0.25 });
    await expect(decided.governor.reserve({ taskId: 'task-2', estimatedCostUsd: 0.3 })).rejects.toMatchObject(
      {
        code: 'BUDGET_EXHAUSTED',
      },
    );
    expect(await openRunGovernor(store, { runId: 'run-1' })).toMatchObject({ capUsd: 2, spentUsd: 0.75 });
  });
});

const binaries = findPostgresBinaries();

describe.skipIf('missing' in binaries)(
  `openRunGovernor over PostgreSQL${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const started = usePostgresServer(binaries);
    let database = '';
    beforeAll(async () => {
      database = new URL(await started().createDatabase('governor')).pathname.slice(1);
    }, 180_000);

    it('shares one ledger and one cap between the run and a worker, counting earlier spend once', async () => {
      const url = await started().createSchema(database);
      await using runStore = await PostgresStore.open(url, { poolSize: 2 });
      await using workerStore = await PostgresStore.open(url, { poolSize: 2 });
      await runWithEarlierSpend(runStore, 2);

      const run = await openRunGovernor(runStore, { runId: 'run-1', capUsd: 1 });
      expect(run).toMatchObject({ capUsd: 1, spentUsd: 0.75, isShared: true });
      // The worker gives no cap: it enforces the one stored with the run, over the same spend.
      const worker = await openRunGovernor(workerStore, { runId: 'run-1' });
      expect(worker).toMatchObject({ capUsd: 1, spentUsd: 0.75, isShared: true });

      const held = await worker.governor.reserve({ taskId: 'task-2', estimatedCostUsd: 0.2 });
      await expect(run.governor.reserve({ taskId: 'task-3', estimatedCostUsd: 0.1 })).rejects.toMatchObject({
        code: 'BUDGET_EXHAUSTED',
      });
      await worker.governor.settle(held, 0.05, { isPriceKnown: true });
      expect(await run.governor.summary()).toMatchObject({ spentUsd: 0.8, reservedUsd: 0 });

      // A resumed session finds the spend in the ledger and does not charge the events again.
      expect(await openRunGovernor(runStore, { runId: 'run-1', capUsd: 3 })).toMatchObject({
        capUsd: 3,
        spentUsd: 0.8,
      });
      expect(await openRunGovernor(workerStore, { runId: 'run-1' })).toMatchObject({ capUsd: 3 });
    });
  },
);
