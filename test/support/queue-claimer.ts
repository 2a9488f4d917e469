/**
 * Claims with a short lease and completes most tasks, in a loop until killed; run as its own process
 * by test/queue-crash.test.ts:
 *
 *   node test/support/queue-claimer.ts <databasePath> <workerId> <leaseSeconds>
 *
 * Prints (synchronously, see write-line.ts) `claimed <id>` after each claim commits, then
 * `completed <id>` after the completion commits, or `held <id>` for the tasks it deliberately never
 * completes (isHeldTask), which stay in progress until their lease runs out.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { TaskQueue } from '../../src/queue/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { isHeldTask, PAUSE_BETWEEN_WRITES_MILLISECONDS } from './crash-protocol.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [databasePath, workerId, leaseArgument] = process.argv.slice(2);
if (databasePath === undefined || workerId === undefined || leaseArgument === undefined) {
  throw new Error('usage: queue-claimer.ts <databasePath> <workerId> <leaseSeconds>');
}
const leaseSeconds = Number(leaseArgument);

exitWhenParentGoes();
await using store = await SqliteStore.open(databasePath);
const queue = new TaskQueue(store);
writeLine('ready');

for (;;) {
  const task = await queue.claim({ workerId, leaseSeconds });
  if (task === null) {
    // Nothing claimable yet: poll again shortly, as an idle worker does.
    await pause(PAUSE_BETWEEN_WRITES_MILLISECONDS);
    continue;
  }
  writeLine(`claimed ${task.id}`);
  // Stands for the work on the task, done outside any transaction.
  await pause(PAUSE_BETWEEN_WRITES_MILLISECONDS);
  if (isHeldTask(task.id)) {
    writeLine(`held ${task.id}`);
    continue;
  }
  await queue.complete(task.id, workerId, { completedBy: workerId });
  writeLine(`completed ${task.id}`);
}
