/**
 * A queue worker run as its own process by test/queue-concurrency.test.ts:
 *
 *   node test/support/queue-worker.ts <databasePath> <workerId> [workMilliseconds]
 *
 * Protocol: prints `ready` once its store is open, then waits for a `go` line on stdin so that all
 * workers start claiming at the same moment and really contend for the write lock. It then claims
 * and completes until the queue is empty and prints one JSON line: {"workerId", "completedTaskIds"}.
 */
import { createInterface } from 'node:readline';
import { setTimeout as pause } from 'node:timers/promises';
import { TaskQueue } from '../../src/queue/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { writeLine } from './write-line.ts';

const [databasePath, workerId, workArgument = '0'] = process.argv.slice(2);
if (databasePath === undefined || workerId === undefined) {
  throw new Error('usage: queue-worker.ts <databasePath> <workerId> [workMilliseconds]');
}
const workMilliseconds = Number(workArgument);

await using store = await SqliteStore.open(databasePath);
const queue = new TaskQueue(store);

await waitForGoLine();

const completedTaskIds: string[] = [];
for (;;) {
  const task = await queue.claim({ workerId });
  if (task === null) break;
  // Stands for the agent's work on the task, done outside any transaction. Not a wait for anything:
  // without it a worker re-enters BEGIN IMMEDIATE microseconds after its COMMIT and, because SQLite
  // makes a blocked writer sleep 1–100 ms between retries (no FIFO), can starve the others.
  if (workMilliseconds > 0) await pause(workMilliseconds);
  await queue.complete(task.id, workerId, { completedBy: workerId });
  completedTaskIds.push(task.id);
}
writeLine(`${JSON.stringify({ workerId, completedTaskIds })}`);

async function waitForGoLine(): Promise<void> {
  const lineReader = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve, reject) => {
    lineReader.once('line', (line) => {
      if (line.trim() === 'go') resolve();
      else reject(new Error(`expected "go" on stdin, got ${JSON.stringify(line)}`));
    });
    // The parent closing stdin before "go" means it died or gave up: do not linger as an orphan.
    lineReader.once('close', () => reject(new Error('stdin closed before "go"')));
  });
  writeLine('ready');
  try {
    await go;
  } finally {
    lineReader.close();
    process.stdin.destroy();
  }
}
