/**
 * One budget cap shared by workers in several processes (DESIGN.md §3, "Store and distribution"):
 * three processes, each a governor over the run's ledger in a real PostgreSQL server, with several
 * calls in flight each, spend against one cap. The cap may be crossed only by what calls in flight
 * at that moment cost beyond their estimates, and every worker hears the refusal.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openRunGovernor, toNanoUsd } from '../src/budget/index.ts';
import { PostgresStore } from '../src/store/index.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { ChildProcessRegistry, waitForOutput } from './support/supervised-child.ts';

const SPENDER_SCRIPT = join(import.meta.dirname, 'support', 'budget-spender.ts');
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 120_000;
const PROCESSES = 3;
const CALLS_IN_FLIGHT = 4;
const CAP_USD = 8;
const binaries = findPostgresBinaries();

interface ReservationRow {
  state: string;
  estimated: number;
  charged: number | null;
  granted: number;
  closed: number | null;
}

/**
 * Replays the ledger's changes in version order and returns the largest `spent + reserved` any grant
 * left behind: reserve-before-call promises it never exceeds the cap at a grant.
 */
function highestCommitmentAtAGrant(rows: readonly ReservationRow[]): number {
  const changes = [
    ...rows.map((row) => ({ version: row.granted, delta: row.estimated, isGrant: true })),
    ...rows.flatMap((row) =>
      row.closed === null
        ? []
        : [{ version: row.closed, delta: (row.charged ?? 0) - row.estimated, isGrant: false }],
    ),
  ].sort((left, right) => left.version - right.version);
  let committed = 0;
  let highest = 0;
  for (const change of changes) {
    committed += change.delta;
    if (change.isGrant) highest = Math.max(highest, committed);
  }
  return highest;
}

describe.skipIf('missing' in binaries)(
  `a budget shared by processes${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const children = new ChildProcessRegistry();
    const server = usePostgresServer(binaries);
    afterEach(async () => {
      await children.killAll();
    });

    it(`is crossed by ${PROCESSES} workers by no more than the calls in flight when it was reached`, async () => {
      const url = await server().createDatabase('shared_budget');
      {
        // The session that starts the run decides the cap; the workers read it from the store.
        await using store = await PostgresStore.open(url, { poolSize: 1 });
        await openRunGovernor(store, { runId: 'run-shared', capUsd: CAP_USD });
      }
      const spenders = Array.from({ length: PROCESSES }, (_, index) =>
        children.start(`spender-${index + 1}`, SPENDER_SCRIPT, [url, 'run-shared', String(CALLS_IN_FLIGHT)], {
          stdin: 'pipe',
        }),
      );
      await waitForOutput(spenders, () => spenders.every((child) => child.lines.includes('ready')), {
        description: 'every process to print "ready"',
        timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
      });
      for (const spender of spenders) spender.writeLine('go');
      for (const spender of spenders) {
        expect(await spender.exited, spender.describe()).toEqual({ code: 0, signal: null });
        // Every worker was refused, and every worker had spent some of the budget first.
        expect(spender.lines, spender.describe()).toContain('refused');
        const done = spender.lines.find((line) => line.startsWith('done '));
        expect(Number(done?.slice('done '.length)), spender.describe()).toBeGreaterThan(0);
      }

      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const ledger = (
          await client.query(
            "SELECT spent_nano_usd::float8 AS spent, reserved_nano_usd::float8 AS reserved FROM budget_ledgers WHERE run_id = 'run-shared'",
          )
        ).rows[0] as { spent: number; reserved: number };
        const rows = (
          await client.query(
            `SELECT state, estimated_nano_usd::float8 AS estimated, charged_nano_usd::float8 AS charged,
               granted_version::float8 AS granted, closed_version::float8 AS closed
             FROM budget_reservations WHERE run_id = 'run-shared'`,
          )
        ).rows as ReservationRow[];
        const cap = toNanoUsd(CAP_USD);
        expect(rows.filter((row) => row.state !== 'settled' && row.state !== 'released')).toEqual([]);
        const spent = rows.reduce((sum, row) => sum + (row.charged ?? 0), 0);
        expect(ledger).toEqual({ spent, reserved: 0 });

        // No grant ever took spent + reserved past the cap, from any of the processes.
        expect(highestCommitmentAtAGrant(rows)).toBeLessThanOrEqual(cap);
        // The cap was reached at the last grant; what the calls in flight then cost beyond their
        // estimates is all the run may go over it.
        const lastGrant = Math.max(...rows.map((row) => row.granted));
        const overshoot = rows
          .filter((row) => row.closed !== null && row.closed > lastGrant)
          .reduce((sum, row) => sum + Math.max(0, (row.charged ?? 0) - row.estimated), 0);
        expect(spent).toBeLessThanOrEqual(cap + overshoot);
        // And the budget was used: the refusals came near the cap, not early.
        expect(spent).toBeGreaterThan(cap / 2);
      } finally {
        await client.end();
      }
    }, 240_000);
  },
);
