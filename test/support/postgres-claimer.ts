/**
 * Claims and completes tasks of a PostgreSQL store in a loop; run as its own process by
 * test/postgres-store-processes.test.ts:
 *
 *   node test/support/postgres-claimer.ts <storeUrl> <workerId> <taskCount>
 *
 * Prints `ready` once its store is open, waits for `go` on stdin (so that the claimers really
 * contend), then prints `claimed <id>` after each claim commits. When nothing is claimable it waits
 * for the store's LISTEN/NOTIFY wake-up (or a fallback poll), and it ends with `done` once
 * `taskCount` tasks are completed.
 */
import { createInterface } from 'node:readline';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [url, workerId, countArgument] = process.argv.slice(2);
if (url === undefined || workerId === undefined || countArgument === undefined) {
  throw new Error('usage: postgres-claimer.ts <storeUrl> <workerId> <taskCount>');
}
const taskCount = Number(countArgument);
/** Only a safety net: a missed wake-up costs this much, never a task. */
const FALLBACK_POLL_MILLISECONDS = 1_000;

await using store = await PostgresStore.open(url, { poolSize: 2 });
let wake = () => {};
store.onEventsCommitted(() => wake());
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

for (;;) {
  // Armed before looking, so a commit landing while this pass claims is not missed.
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const task = await store.claimTask({ workerId, leaseMilliseconds: 600_000 });
  if (task !== null) {
    writeLine(`claimed ${task.id}`);
    await store.completeTask(task.id, workerId, { completedBy: workerId });
    continue;
  }
  if ((await store.countTasks()).completed >= taskCount) break;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    woken,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FALLBACK_POLL_MILLISECONDS);
    }),
  ]);
  clearTimeout(timer);
}
writeLine('done');
stopWatchingParent();
