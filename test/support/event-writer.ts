/**
 * Appends events to a store, run as its own process by test/event-bus-processes.test.ts:
 *
 *   node test/support/event-writer.ts <databasePath> <name> <transactions>
 *
 * Prints `ready` once its store is open and waits for a `go` line on stdin (so that several writers
 * really contend), then commits `transactions` transactions (0: until killed), alternately one
 * `agent.text` event and a batch of two tasks (two `task.enqueued` events in one transaction).
 * After each commit it prints `committed <last sequence>` synchronously (see write-line.ts): a
 * sequence the test has read is one that MUST be in the store, even after a kill -9.
 */
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/index.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [databasePath, name, transactionsArgument] = process.argv.slice(2);
if (databasePath === undefined || name === undefined || transactionsArgument === undefined) {
  throw new Error('usage: event-writer.ts <databasePath> <name> <transactions>');
}
const transactions = Number(transactionsArgument);

await using store = await SqliteStore.open(databasePath);
/** The last sequence this process committed, as its store announces it after each commit. */
let lastCommitted = 0;
store.onEventsAppended((events) => {
  lastCommitted = events.at(-1)?.sequence ?? lastCommitted;
});
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
// stdin closed before `go`: the test process is gone.
if (!hasGo) process.exit(3);
const stopWatchingParent = exitWhenParentGoes();

for (let number = 1; transactions === 0 || number <= transactions; number += 1) {
  if (number % 2 === 1) {
    await store.appendEvent({
      type: 'agent.text',
      runId: `run-${name}`,
      taskId: null,
      data: { text: `${name} transaction ${number}` },
    });
  } else {
    const tasks = ['a', 'b'].map((letter) => ({
      id: `${name}-${number}-${letter}`,
      type: 'eng-backend',
      title: `${name} ${number} ${letter}`,
      description: '',
      priority: 5,
      dependencies: [],
      payload: null,
      idempotencyKey: null,
      runId: `run-${name}`,
      timeoutSeconds: 60,
      maxAttempts: 1,
    }));
    await store.insertTasks(tasks);
  }
  writeLine(`committed ${lastCommitted}`);
  // Lets the other writers in between this writer's transactions.
  await new Promise((resolve) => setImmediate(resolve));
}
writeLine('done');
stopWatchingParent();
