/**
 * Appends events to a PostgreSQL store as fast as it can; run as its own process by
 * test/postgres-store-processes.test.ts:
 *
 *   node test/support/postgres-event-writer.ts <storeUrl> <name> <transactions>
 *
 * Prints `ready` once its store is open and waits for `go` on stdin, then commits `transactions`
 * transactions from several connections at once: alternately one `agent.text` event, and a batch of
 * two tasks (two `task.enqueued` events in one transaction) followed by the claim and completion of
 * the first of them (one event each, each a single-statement transaction). Ends with `done`.
 */
import { createInterface } from 'node:readline';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [url, name, transactionsArgument] = process.argv.slice(2);
if (url === undefined || name === undefined || transactionsArgument === undefined) {
  throw new Error('usage: postgres-event-writer.ts <storeUrl> <name> <transactions>');
}
const transactions = Number(transactionsArgument);
/** Transactions in flight at once in this process, each on its own pooled connection. */
const CONCURRENCY = 3;

await using store = await PostgresStore.open(url, { poolSize: CONCURRENCY });
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

let next = 1;
async function writeUntilDone(): Promise<void> {
  while (next <= transactions) {
    const number = next;
    next += 1;
    if (number % 2 === 1) {
      await store.appendEvent({
        type: 'agent.text',
        runId: `run-${name}`,
        taskId: null,
        data: { text: `${name} transaction ${number}` },
      });
    } else {
      await store.insertTasks(
        ['a', 'b'].map((suffix) => ({
          id: `${name}-${number}-${suffix}`,
          type: 'eng-backend',
          title: `${name} ${number} ${suffix}`,
          description: '',
          priority: 5,
          dependencies: [],
          payload: null,
          idempotencyKey: null,
          runId: `run-${name}`,
          timeoutSeconds: 60,
          maxAttempts: 3,
        })),
      );
      const taskId = `${name}-${number}-a`;
      const worker = `${name}-worker`;
      if ((await store.claimTask({ workerId: worker, taskId })) === null) {
        throw new Error(`${taskId} was not claimable right after it was inserted`);
      }
      await store.completeTask(taskId, worker, null);
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, () => writeUntilDone()));
writeLine('done');
stopWatchingParent();
