/**
 * Records failures on one circuit breaker, run as its own process by test/breaker-concurrency.test.ts:
 *
 *   node test/support/breaker-failer.ts <databasePath | postgres://…> <breakerName> <failures>
 *
 * Prints `ready` once its store is open, waits for a `go` line on stdin (so that every process
 * starts at the same moment and they really contend), records the failures, all at once, and
 * prints `done`.
 */
import { createInterface } from 'node:readline';
import { systemClock } from '../../src/clock/index.ts';
import { CircuitBreaker } from '../../src/resilience/index.ts';
import { isPostgresUrl, PostgresStore, SqliteStore } from '../../src/store/index.ts';
import { writeLine } from './write-line.ts';

const [databasePath, breakerName, failuresArgument] = process.argv.slice(2);
if (databasePath === undefined || breakerName === undefined || failuresArgument === undefined) {
  throw new Error('usage: breaker-failer.ts <databasePath> <breakerName> <failures>');
}

await using store = isPostgresUrl(databasePath)
  ? await PostgresStore.open(databasePath, { poolSize: 4 })
  : await SqliteStore.open(databasePath);
// A threshold above any count the test reaches: the breaker only counts, it never opens.
const breaker = new CircuitBreaker(
  breakerName,
  { failureThreshold: 1_000_000, cooldownSeconds: 60, halfOpenRequests: 1 },
  systemClock,
  store,
);
writeLine('ready');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === 'go') break;
}
lines.close();
await Promise.all(Array.from({ length: Number(failuresArgument) }, () => breaker.recordFailure()));
writeLine('done');
