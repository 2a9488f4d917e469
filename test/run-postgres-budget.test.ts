/**
 * `loki run` on a PostgreSQL store keeps its budget in the store's shared ledger, with its cap:
 * what the run spent is there for every worker of the run, and a worker that opens the run's
 * governor without a cap enforces the run's.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildSession } from '../src/bench/generated-session.ts';
import { openRunGovernor, toNanoUsd } from '../src/budget/index.ts';
import type { RunReport } from '../src/orchestrator/index.ts';
import { PostgresStore } from '../src/store/index.ts';
import { startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { readJsonFile, TEST_PRD } from './support/run-harness.ts';

const binaries = findPostgresBinaries();

describe.skipIf('missing' in binaries)(
  `loki run's budget on PostgreSQL${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const server = usePostgresServer(binaries);

    it('charges the shared ledger, with the cap stored for the run', async () => {
      const url = await server().createDatabase('run_budget');
      using workspace = new TempWorkspace();
      await using anthropic = await startFakeAnthropicServer();
      const session = buildSession({ tasks: [{ id: 'one', files: { 'files/one.txt': 'one\n' } }] });
      const discovery = (
        session.discovery as { toolCalls: { toolName: string; input: Record<string, unknown> }[] }[]
      )[0]?.toolCalls[0];
      // Discovery's call is real and priced; after it, the next planning call could cross the cap.
      anthropic.enqueue(
        fakeReply.toolCall(discovery?.toolName ?? '', discovery?.input ?? {}, {
          usage: { inputTokens: 50_000, outputTokens: 10_000 },
        }),
      );
      writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
      const result = await loki(
        workspace,
        ['-c', 'maxRetries=0', '--store', url, 'run', 'prd.md', '--provider', 'anthropic', '--budget', '0.5'],
        { env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropic.baseUrl } },
      );
      expect(result.exitCode, result.stdout + result.stderr).toBe(4);
      const reports = join(workspace.root, '.loki', 'artifacts', 'reports');
      const [reportName] = readdirSync(reports).filter((name) => name.endsWith('.json'));
      const report = readJsonFile<RunReport>(join(reports, reportName ?? ''));
      expect(report.budget.spentUsd).toBeGreaterThan(0);

      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const ledgers = await client
        .query('SELECT run_id, cap_nano_usd, spent_nano_usd, reserved_nano_usd FROM budget_ledgers')
        .finally(() => client.end());
      expect(ledgers.rows).toEqual([
        {
          run_id: expect.any(String),
          cap_nano_usd: String(toNanoUsd(0.5)),
          spent_nano_usd: String(toNanoUsd(report.budget.spentUsd)),
          reserved_nano_usd: '0',
        },
      ]);

      // A worker joining the run: no cap given, the run's enforced; what the run spent, seen.
      await using store = await PostgresStore.open(url, { poolSize: 1 });
      const worker = await openRunGovernor(store, { runId: String(ledgers.rows[0]?.run_id) });
      expect(worker).toMatchObject({ capUsd: 0.5, spentUsd: report.budget.spentUsd, isShared: true });
      await expect(worker.governor.reserve({ taskId: 'one', estimatedCostUsd: 0.5 })).rejects.toMatchObject({
        code: 'BUDGET_EXHAUSTED',
      });
    }, 120_000);
  },
);
