/**
 * The part of the store conformance suite about the worker registry: heartbeats, stops, and which
 * process holds which task. `describeStoreConformance` runs it for every adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import type { ConnectAgain, OpenStore } from './store-conformance.ts';
import type { Store } from './store.ts';
import type { NewTask } from './task-record.ts';
import { type WorkerHeartbeat, workerStateOf } from './worker-record.ts';

function newTask(id: string): NewTask {
  return {
    id,
    type: 'eng-backend',
    title: `title of ${id}`,
    description: '',
    priority: 5,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: 'run-1',
    timeoutSeconds: 60,
    maxAttempts: 3,
  };
}

function heartbeat(id: string, overrides: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    id,
    machine: 'host-a',
    pid: 101,
    role: 'worker',
    runId: null,
    parallel: 4,
    types: null,
    heartbeatMilliseconds: 10_000,
    ...overrides,
  };
}

export function describeStoreWorkerConformance(
  adapterName: string,
  openStore: OpenStore,
  connectAgain: ConnectAgain,
): void {
  describe(`Store conformance, worker registry: ${adapterName}`, () => {
    let clock: ManualClock;
    let store: Store;

    beforeEach(async () => {
      clock = new ManualClock();
      store = await openStore(clock);
    });
    afterEach(async () => {
      await store.close();
    });

    it('registers a worker on its first heartbeat with worker.joined, then only moves its heartbeat', async () => {
      const startedAt = clock.now();
      const first = await store.recordWorkerHeartbeat(
        heartbeat('worker:host-a:101', { types: ['eng-backend', 'eng-frontend'], runId: 'run-1' }),
      );
      expect(first).toEqual({
        ...heartbeat('worker:host-a:101', { types: ['eng-backend', 'eng-frontend'], runId: 'run-1' }),
        startedAt,
        lastHeartbeatAt: startedAt,
        stoppedAt: null,
        taskIds: [],
      });
      clock.advance(10_000);
      const second = await store.recordWorkerHeartbeat(
        heartbeat('worker:host-a:101', { parallel: 2, runId: 'run-1', types: ['eng-backend'] }),
      );
      expect(second).toMatchObject({ startedAt, lastHeartbeatAt: startedAt + 10_000, parallel: 2 });
      expect(second.types).toEqual(['eng-backend']);
      const events = await store.listEvents({ types: ['worker.joined', 'worker.left'] });
      expect(events.map((event) => [event.type, event.runId, event.data])).toEqual([
        [
          'worker.joined',
          null,
          {
            workerId: 'worker:host-a:101',
            machine: 'host-a',
            pid: 101,
            role: 'worker',
            parallel: 4,
            types: ['eng-backend', 'eng-frontend'],
          },
        ],
      ]);
    });

    it('registers a run process that works on no task itself (loki run --parallel 0) with 0 agents', async () => {
      const recorded = await store.recordWorkerHeartbeat(
        heartbeat('run:run-1:host-a:7', { role: 'run', runId: 'run-1', parallel: 0 }),
      );
      expect(recorded).toMatchObject({ role: 'run', parallel: 0, stoppedAt: null });
      const [joined] = await store.listEvents({ types: ['worker.joined'] });
      expect(joined?.data).toMatchObject({ role: 'run', parallel: 0 });
    });

    it('marks a worker stopped once, with worker.left, and a late heartbeat does not revive it', async () => {
      await store.recordWorkerHeartbeat(heartbeat('run:run-1:7', { role: 'run', runId: 'run-1' }));
      clock.advance(5_000);
      const stopped = await store.markWorkerStopped('run:run-1:7');
      expect(stopped).toMatchObject({ id: 'run:run-1:7', stoppedAt: clock.now() });
      clock.advance(5_000);
      expect(await store.markWorkerStopped('run:run-1:7')).toEqual(stopped);
      expect(
        await store.recordWorkerHeartbeat(heartbeat('run:run-1:7', { role: 'run', runId: 'run-1' })),
      ).toEqual(stopped);
      expect(await store.markWorkerStopped('never-registered')).toBeNull();
      const events = await store.listEvents({ types: ['worker.joined', 'worker.left'] });
      expect(events.map((event) => [event.type, event.runId])).toEqual([
        ['worker.joined', null],
        ['worker.left', null],
      ]);
      expect(events[1]?.data).toEqual({ workerId: 'run:run-1:7', machine: 'host-a' });
    });

    it('attributes each held task to the process whose id prefixes its worker id', async () => {
      await store.insertTasks(['a', 'b', 'c', 'd'].map(newTask));
      await store.recordWorkerHeartbeat(heartbeat('worker:host-a:101'));
      await store.recordWorkerHeartbeat(heartbeat('worker:host-b:101', { machine: 'host-b' }));
      // An id that starts like another's but is not followed by ':' is not that worker's.
      await store.recordWorkerHeartbeat(heartbeat('worker:host-a:1011'));
      await store.claimTask({ workerId: 'worker:host-a:101:w1', taskId: 'a' });
      clock.advance(1);
      await store.claimTask({ workerId: 'worker:host-b:101:w1', taskId: 'b' });
      clock.advance(1);
      await store.claimTask({ workerId: 'worker:host-a:101:w2', taskId: 'c' });
      clock.advance(1);
      await store.claimTask({ workerId: 'worker:host-a:1011', taskId: 'd' });
      const listed = await store.listWorkers();
      expect(listed.map((worker) => [worker.id, worker.machine, worker.taskIds])).toEqual([
        ['worker:host-a:101', 'host-a', ['a', 'c']],
        ['worker:host-a:1011', 'host-a', ['d']],
        ['worker:host-b:101', 'host-b', ['b']],
      ]);
      await store.completeTask('a', 'worker:host-a:101:w1', null);
      const refreshed = await store.recordWorkerHeartbeat(heartbeat('worker:host-a:101'));
      expect(refreshed.taskIds).toEqual(['c']);
    });

    it('shows a worker that stopped beating as lost after a few missed heartbeats', async () => {
      await store.recordWorkerHeartbeat(heartbeat('worker:host-a:101', { heartbeatMilliseconds: 1_000 }));
      const [worker] = await store.listWorkers();
      if (worker === undefined) throw new Error('the worker was not registered');
      expect(workerStateOf(worker, clock.now() + 3_000)).toBe('active');
      expect(workerStateOf(worker, clock.now() + 3_001)).toBe('lost');
      await store.markWorkerStopped(worker.id);
      const [stopped] = await store.listWorkers();
      if (stopped === undefined) throw new Error('the worker vanished');
      expect(workerStateOf(stopped, clock.now() + 60_000)).toBe('stopped');
    });

    it('registers once when two connections send the same first heartbeat at once', async () => {
      await using other = await connectAgain(store, clock);
      await Promise.all([
        store.recordWorkerHeartbeat(heartbeat('worker:host-a:101')),
        other.recordWorkerHeartbeat(heartbeat('worker:host-a:101')),
      ]);
      expect(await other.listWorkers()).toHaveLength(1);
      expect(await store.listEvents({ types: ['worker.joined'] })).toHaveLength(1);
    });
  });
}
