/**
 * Takes a run's merge coordinator lock and holds it until killed; run as its own process by
 * test/distributed-merge.test.ts:
 *
 *   node test/support/coordinator-lock-holder.ts <storeUrl> <runId>
 *
 * Prints `locked` once it holds the lock.
 */
import { CoordinatorLock } from '../../src/distributed/index.ts';
import { exitWhenParentGoes } from './exit-with-parent.ts';
import { writeLine } from './write-line.ts';

const [storeUrl, runId] = process.argv.slice(2);
if (storeUrl === undefined || runId === undefined) {
  throw new Error('usage: coordinator-lock-holder.ts <storeUrl> <runId>');
}
exitWhenParentGoes();
const lock = await CoordinatorLock.acquire({ storeUrl, runId });
writeLine('locked');
// Held until the process is killed: the server frees a session lock when its connection dies.
lock.lost.addEventListener('abort', () => process.exit(4));
