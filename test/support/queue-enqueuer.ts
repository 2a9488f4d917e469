/**
 * Enqueues small batches in a loop until killed; run as its own process by test/queue-crash.test.ts:
 *
 *   node test/support/queue-enqueuer.ts <databasePath>
 *
 * Prints `begin <n>` before and `committed <n>` after batch n's transaction, synchronously (see
 * write-line.ts): a `committed` line the test has read is a batch that MUST survive the kill. A batch
 * whose `committed` line never got out may or may not be there, but only whole.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { TaskQueue } from '../../src/queue/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import {
  batchSize,
  CRASH_TEST_MAX_ATTEMPTS,
  PAUSE_BETWEEN_WRITES_MILLISECONDS,
  taskIdOf,
} from './crash-protocol.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [databasePath] = process.argv.slice(2);
if (databasePath === undefined) throw new Error('usage: queue-enqueuer.ts <databasePath>');

exitWhenParentGoes();
await using store = await SqliteStore.open(databasePath);
const queue = new TaskQueue(store);
writeLine('ready');

for (let batchNumber = 1; ; batchNumber += 1) {
  const size = batchSize(batchNumber);
  const requests = Array.from({ length: size }, (_, index) => ({
    id: taskIdOf(batchNumber, index),
    type: 'crash-test',
    title: `task ${index + 1} of batch ${batchNumber}`,
    payload: { batchNumber, batchSize: size },
    maxAttempts: CRASH_TEST_MAX_ATTEMPTS,
  }));
  writeLine(`begin ${batchNumber}`);
  await queue.enqueueMany(requests);
  writeLine(`committed ${batchNumber}`);
  await pause(PAUSE_BETWEEN_WRITES_MILLISECONDS);
}
