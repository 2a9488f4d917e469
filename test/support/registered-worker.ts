/**
 * A process that registers in a PostgreSQL store's worker registry as `loki worker` does, run by
 * test/cli-workers.test.ts:
 *
 *   node test/support/registered-worker.ts <storeUrl> <workerId> <machine> <heartbeatMs> [taskId]
 *
 * It starts a WorkerPresence (role worker), claims `taskId` under `<workerId>:w1` when given, prints
 * `ready`, and heartbeats until it reads `stop` on stdin: then it records its stop, prints
 * `stopped` and exits. When stdin closes first (the test process is gone) it exits at once.
 */
import { createInterface } from 'node:readline';
import { WorkerPresence } from '../../src/orchestrator/worker-presence.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { writeLine } from './write-line.ts';

const [url, workerId, machine, intervalArgument, taskId] = process.argv.slice(2);
if (url === undefined || workerId === undefined || machine === undefined || intervalArgument === undefined) {
  throw new Error('usage: registered-worker.ts <storeUrl> <workerId> <machine> <heartbeatMs> [taskId]');
}

const store = await PostgresStore.open(url, { poolSize: 2 });
const presence = await WorkerPresence.start({
  store,
  id: workerId,
  role: 'worker',
  runId: null,
  parallel: 2,
  types: ['eng-backend'],
  machine,
  intervalMilliseconds: Number(intervalArgument),
  onTrouble: (text) => process.stderr.write(`${text}\n`),
});
if (taskId !== undefined) {
  const claimed = await store.claimTask({ workerId: `${workerId}:w1`, taskId, leaseMilliseconds: 600_000 });
  if (claimed === null) throw new Error(`could not claim ${taskId}`);
}
writeLine('ready');
let isStopping = false;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'stop' || isStopping) return;
  isStopping = true;
  void (async () => {
    await presence.stop();
    await store.close();
    writeLine('stopped');
    process.exit(0);
  })();
});
lines.on('close', () => {
  if (!isStopping) process.exit(3);
});
