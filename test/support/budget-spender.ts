/**
 * A worker that spends a shared run budget; run as its own process by
 * test/budget-shared-processes.test.ts:
 *
 *   node test/support/budget-spender.ts <storeUrl> <runId> <callsInFlight>
 *
 * Opens the run's governor the way `loki run` and `loki worker` do (openRunGovernor, no cap given:
 * the cap stored with the run), prints `ready`, waits for `go` on stdin, then keeps
 * `callsInFlight` model calls going: each reserves a random estimate, "runs" for a moment, and
 * settles a random actual cost, sometimes above its estimate (a bad estimate is the one way past
 * the cap). A call that fails before costing anything releases instead. Each loop stops at its
 * first BUDGET_EXHAUSTED; the process prints `refused` then and `done <calls settled>` at the end.
 */
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { openRunGovernor } from '../../src/budget/index.ts';
import { PostgresStore } from '../../src/store/index.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [url, runId, inFlightArgument] = process.argv.slice(2);
if (url === undefined || runId === undefined || inFlightArgument === undefined) {
  throw new Error('usage: budget-spender.ts <storeUrl> <runId> <callsInFlight>');
}

await using store = await PostgresStore.open(url, { poolSize: Number(inFlightArgument) });
const { governor } = await openRunGovernor(store, { runId });
writeLine('ready');
const lines = createInterface({ input: process.stdin });
let hasGo = false;
for await (const line of lines) {
  if (line.trim() === 'go') {
    hasGo = true;
    break;
  }
}
lines.close();
if (!hasGo) process.exit(3);
const stopWatchingParent = exitWhenParentGoes();

let settled = 0;
let hasPrintedRefusal = false;

async function spend(loop: number): Promise<void> {
  for (let call = 0; ; call += 1) {
    const estimatedCostUsd = 0.02 + Math.random() * 0.18;
    let reservation;
    try {
      reservation = await governor.reserve({ taskId: `task-${process.pid}-${loop}`, estimatedCostUsd });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'BUDGET_EXHAUSTED') throw error;
      if (!hasPrintedRefusal) writeLine('refused');
      hasPrintedRefusal = true;
      return;
    }
    // The model call's duration: long enough for the other loops and processes to reserve meanwhile.
    await delay(Math.random() * 15);
    if (call % 7 === 3) {
      await governor.release(reservation);
      continue;
    }
    await governor.settle(reservation, estimatedCostUsd * (0.2 + Math.random() * 1.3), {
      isPriceKnown: true,
    });
    settled += 1;
  }
}

await Promise.all(Array.from({ length: Number(inFlightArgument) }, (_, loop) => spend(loop)));
writeLine(`done ${settled}`);
stopWatchingParent();
