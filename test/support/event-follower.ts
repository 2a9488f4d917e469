/**
 * Follows a store's events through the EventBus, run as its own process by
 * test/event-bus-processes.test.ts:
 *
 *   node test/support/event-follower.ts <databasePath> <afterSequence> <pollIntervalMilliseconds>
 *
 * Prints `ready` once its store is open, then `event <sequence> <type> <taskId or ->` for every
 * event it receives. A `stop` line on stdin (or stdin closing: the test process is gone) aborts the
 * subscription; it then prints `stopped`, closes the store and exits by itself, which it can only
 * do if the subscription left no timer or listener behind.
 */
import { createInterface } from 'node:readline';
import { EventBus } from '../../src/events/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { writeLine } from './write-line.ts';

const [databasePath, afterSequenceArgument, pollArgument] = process.argv.slice(2);
if (databasePath === undefined || afterSequenceArgument === undefined || pollArgument === undefined) {
  throw new Error('usage: event-follower.ts <databasePath> <afterSequence> <pollIntervalMilliseconds>');
}

const stop = new AbortController();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'stop') stop.abort();
});
lines.on('close', () => stop.abort());

{
  await using store = await SqliteStore.open(databasePath);
  writeLine('ready');
  const bus = new EventBus(store, { pollIntervalMilliseconds: Number(pollArgument) });
  const events = bus.subscribe({ afterSequence: Number(afterSequenceArgument), signal: stop.signal });
  for await (const event of events) {
    writeLine(`event ${event.sequence} ${event.type} ${event.taskId ?? '-'}`);
  }
  writeLine('stopped');
}
lines.close();
