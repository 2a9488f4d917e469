/**
 * Circuit breakers live in the store so that they hold across processes (DESIGN.md §3, "Store and
 * distribution"). Failures recorded at the same moment by several processes must all count:
 * a breaker that loses them opens late, or never.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore, SqliteStore, type Store } from '../src/store/index.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { ChildProcessRegistry, type SupervisedChild, waitForOutput } from './support/supervised-child.ts';

const PROCESSES = 4;
const FAILURES_PER_PROCESS = 25;
const FAILER_SCRIPT = join(import.meta.dirname, 'support', 'breaker-failer.ts');

describe('circuit breakers across processes', () => {
  const children = new ChildProcessRegistry();
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-breaker-concurrency-'));
  });

  afterEach(async () => {
    await children.killAll();
    rmSync(directory, { recursive: true, force: true });
  });

  it(`counts all ${PROCESSES * FAILURES_PER_PROCESS} failures recorded at once by ${PROCESSES} processes`, async () => {
    const databasePath = join(directory, 'loki.db');
    // Created (and migrated) once, before the processes race to open it.
    await (await SqliteStore.open(databasePath)).close();
    await expectEveryFailureCounted(children, databasePath, () => SqliteStore.open(databasePath));
  }, 60_000);
});

const binaries = findPostgresBinaries();

describe.skipIf('missing' in binaries)(
  `circuit breakers across processes on PostgreSQL${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const children = new ChildProcessRegistry();
    const server = usePostgresServer(binaries);
    afterEach(async () => {
      await children.killAll();
    });

    it(`counts all ${PROCESSES * FAILURES_PER_PROCESS} failures recorded at once by ${PROCESSES} processes`, async () => {
      const url = await server().createDatabase('breakers');
      await (await PostgresStore.open(url, { poolSize: 1 })).close();
      await expectEveryFailureCounted(children, url, () => PostgresStore.open(url, { poolSize: 1 }));
    }, 120_000);
  },
);

/** Starts the failers against `target`, lets them loose at once, and checks that no failure was lost. */
async function expectEveryFailureCounted(
  children: ChildProcessRegistry,
  target: string,
  openStore: () => Promise<Store>,
): Promise<void> {
  const failers: SupervisedChild[] = [];
  for (let index = 1; index <= PROCESSES; index += 1) {
    failers.push(
      children.start(
        `failer-${index}`,
        FAILER_SCRIPT,
        [target, 'provider:anthropic', String(FAILURES_PER_PROCESS)],
        {
          stdin: 'pipe',
        },
      ),
    );
  }
  await waitForOutput(failers, () => failers.every((failer) => failer.lines.includes('ready')), {
    description: 'every process to print "ready"',
    timeoutMilliseconds: 60_000,
  });
  for (const failer of failers) failer.writeLine('go');
  const exits = await Promise.all(failers.map((failer) => failer.exited));
  for (const [index, exit] of exits.entries()) {
    expect(exit, failers[index]?.describe()).toEqual({ code: 0, signal: null });
  }
  await using store = await openStore();
  expect((await store.loadBreaker('provider:anthropic'))?.consecutiveFailures).toBe(
    PROCESSES * FAILURES_PER_PROCESS,
  );
}
