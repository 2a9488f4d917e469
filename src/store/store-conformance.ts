/**
 * The conformance suite every Store adapter must pass (SQLite now, PostgreSQL next). It drives the
 * store directly, and through TaskQueue where a retry policy is involved, with a manual clock so
 * that leases and backoff are exact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import { TaskQueue } from '../queue/index.ts';
import type { BreakerSnapshot } from './breaker-record.ts';
import type { Store } from './store.ts';
import { describeStoreEventConformance } from './store-events-conformance.ts';
import { describeStoreWorkerConformance } from './store-workers-conformance.ts';
import type { NewTask } from './task-record.ts';

export type OpenStore = (clock: ManualClock) => Promise<Store>;
/** Opens another connection to the same store (another process or machine would hold one). */
export type ConnectAgain = (store: Store, clock: ManualClock) => Promise<Store>;

function newTask(id: string, overrides: Partial<NewTask> = {}): NewTask {
  return {
    id,
    type: 'eng-backend',
    title: `title of ${id}`,
    description: '',
    priority: 5,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: null,
    timeoutSeconds: 60,
    maxAttempts: 3,
    ...overrides,
  };
}

async function expectLokiError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(isLokiError(error), `expected LokiError ${code}, got ${String(error)}`).toBe(true);
  if (isLokiError(error)) expect(error.code).toBe(code);
}

export function describeStoreConformance(
  adapterName: string,
  openStore: OpenStore,
  connectAgain: ConnectAgain,
): void {
  describeStoreEventConformance(adapterName, openStore, connectAgain);
  describeStoreWorkerConformance(adapterName, openStore, connectAgain);
  describe(`Store conformance: ${adapterName}`, () => {
    let clock: ManualClock;
    let store: Store;
    let queue: TaskQueue;

    beforeEach(async () => {
      clock = new ManualClock();
      store = await openStore(clock);
      queue = new TaskQueue(store, {
        backoff: { baseSeconds: 10, maxSeconds: 100, jitterRatio: 0.1 },
        random: () => 0.5,
      });
    });

    afterEach(async () => {
      await store.close();
    });

    it('stores every field of a task and reads it back', async () => {
      const [inserted] = await store.insertTasks([
        newTask('a', {
          description: 'do a',
          priority: 7,
          payload: { files: ['x.ts'], nested: { n: 1 } },
          idempotencyKey: 'key-a',
          runId: 'run-1',
          timeoutSeconds: 90,
          maxAttempts: 4,
        }),
      ]);
      const read = await store.getTask('a');
      expect(read).toEqual(inserted);
      expect(read).toMatchObject({
        id: 'a',
        type: 'eng-backend',
        description: 'do a',
        priority: 7,
        payload: { files: ['x.ts'], nested: { n: 1 } },
        idempotencyKey: 'key-a',
        runId: 'run-1',
        status: 'pending',
        timeoutSeconds: 90,
        maxAttempts: 4,
        attemptCount: 0,
        failureCount: 0,
        availableAt: clock.now(),
        createdAt: clock.now(),
        claimedBy: null,
        result: null,
      });
      expect(await store.getTask('missing')).toBeNull();
    });

    it('claims the highest priority first and the oldest among equals', async () => {
      await store.insertTasks([
        newTask('low', { priority: 1 }),
        newTask('mid-1', { priority: 5 }),
        newTask('high', { priority: 10 }),
        newTask('mid-2', { priority: 5 }),
      ]);
      const order: string[] = [];
      for (;;) {
        const task = await store.claimTask({ workerId: 'w' });
        if (task === null) break;
        order.push(task.id);
      }
      expect(order).toEqual(['high', 'mid-1', 'mid-2', 'low']);
    });

    it('hands out a task only when all its dependencies are completed', async () => {
      await store.insertTasks([
        newTask('base', { priority: 1 }),
        newTask('other', { priority: 1 }),
        newTask('top', { priority: 10, dependencies: ['base', 'other'] }),
      ]);
      const first = await store.claimTask({ workerId: 'w' });
      expect(first?.id).toBe('base');
      await store.completeTask('base', 'w', null);
      const second = await store.claimTask({ workerId: 'w' });
      expect(second?.id).toBe('other');
      expect(await store.claimTask({ workerId: 'w' })).toBeNull();
      await store.completeTask('other', 'w', null);
      expect((await store.claimTask({ workerId: 'w' }))?.id).toBe('top');
    });

    it('filters claims by agent type', async () => {
      await store.insertTasks([
        newTask('backend', { priority: 10 }),
        newTask('docs', { type: 'prod-techwriter', priority: 1 }),
      ]);
      const task = await store.claimTask({ workerId: 'w', types: ['prod-techwriter', 'ops-sre'] });
      expect(task?.id).toBe('docs');
      expect(await store.claimTask({ workerId: 'w', types: ['ops-sre'] })).toBeNull();
    });

    it('claims one named task when asked to', async () => {
      await store.insertTasks([newTask('first', { priority: 10 }), newTask('mine', { priority: 1 })]);
      expect((await store.claimTask({ workerId: 'w', taskId: 'mine' }))?.id).toBe('mine');
      expect(await store.claimTask({ workerId: 'w', taskId: 'mine' })).toBeNull();
      expect(await store.claimTask({ workerId: 'w', taskId: 'missing' })).toBeNull();
    });

    it('records the claim: worker, time, lease from the task timeout, attempt count', async () => {
      await store.insertTasks([newTask('a', { timeoutSeconds: 30 })]);
      const claimed = await store.claimTask({ workerId: 'worker-1' });
      expect(claimed).toMatchObject({
        status: 'in_progress',
        claimedBy: 'worker-1',
        claimedAt: clock.now(),
        leaseExpiresAt: clock.now() + 30_000,
        attemptCount: 1,
      });
      const custom = await store
        .insertTasks([newTask('b')])
        .then(() => store.claimTask({ workerId: 'worker-2', leaseMilliseconds: 5_000 }));
      expect(custom?.leaseExpiresAt).toBe(clock.now() + 5_000);
    });

    it('completes a held task with its result, and refuses a worker that does not hold it', async () => {
      await store.insertTasks([newTask('a')]);
      await store.claimTask({ workerId: 'w1' });
      await expectLokiError(store.completeTask('a', 'w2', null), 'TASK_LEASE_LOST');
      clock.advance(1000);
      const done = await store.completeTask('a', 'w1', { summary: 'ok', files: 2 });
      expect(done).toMatchObject({
        status: 'completed',
        completedAt: clock.now(),
        result: { summary: 'ok', files: 2 },
      });
      await expectLokiError(store.completeTask('a', 'w1', null), 'TASK_LEASE_LOST');
      await expectLokiError(store.completeTask('nope', 'w1', null), 'TASK_NOT_FOUND');
    });

    it('backs off a failed task by base·2^(n−1) plus jitter, capped, then dead-letters it', async () => {
      await queue.enqueue({ id: 'flaky', type: 'eng-backend', title: 'flaky', maxAttempts: 5 });
      // base 10 s, max 100 s, jitter 10 % × 0.5 → 5 %.
      const expectedBackoffs = [10.5, 21, 42, 84];
      for (const expected of expectedBackoffs) {
        const claimed = await queue.claim({ workerId: 'w' });
        expect(claimed?.id).toBe('flaky');
        const failed = await queue.fail('flaky', 'w', 'boom');
        expect(failed.status).toBe('failed');
        expect(failed.backoffSeconds).toBeCloseTo(expected, 6);
        expect(failed.availableAt).toBe(clock.now() + Math.round(expected * 1000));
        expect(failed.lastError).toBe('boom');
        // Not claimable one millisecond before its time, claimable at it.
        clock.set(failed.availableAt - 1);
        expect(await queue.claim({ workerId: 'w' })).toBeNull();
        clock.set(failed.availableAt);
      }
      await queue.claim({ workerId: 'w' });
      const dead = await queue.fail('flaky', 'w', 'boom again');
      expect(dead).toMatchObject({ status: 'dead_letter', failureCount: 5, lastError: 'boom again' });
      clock.advance(10_000_000);
      expect(await queue.claim({ workerId: 'w' })).toBeNull();

      const retried = await queue.retry('flaky');
      expect(retried).toMatchObject({ status: 'pending', failureCount: 0, availableAt: clock.now() });
      expect((await queue.claim({ workerId: 'w' }))?.id).toBe('flaky');
    });

    it('caps the backoff at the maximum', async () => {
      await queue.enqueue({ id: 'a', type: 'eng-backend', title: 'a', maxAttempts: 20 });
      let last = 0;
      for (let attempt = 1; attempt <= 8; attempt += 1) {
        await queue.claim({ workerId: 'w' });
        const failed = await queue.fail('a', 'w', 'x');
        last = failed.backoffSeconds;
        clock.set(failed.availableAt);
      }
      expect(last).toBeCloseTo(105, 6);
    });

    it('returns an expired lease to pending with reason claim_timeout, and the stale worker loses it', async () => {
      await store.insertTasks([newTask('a', { timeoutSeconds: 10 })]);
      await store.claimTask({ workerId: 'crashed' });
      clock.advance(9_999);
      expect(await queue.reclaimExpiredLeases()).toEqual([]);
      clock.advance(1);
      const [reclaimed] = await queue.reclaimExpiredLeases();
      expect(reclaimed).toMatchObject({
        id: 'a',
        status: 'pending',
        lastError: 'claim_timeout',
        failureCount: 1,
        claimedBy: null,
        availableAt: clock.now(),
      });
      const events = await store.listEvents({ taskId: 'a' });
      expect(events.at(-1)).toMatchObject({
        type: 'task.lease_expired',
        data: { workerId: 'crashed', reason: 'claim_timeout', failureCount: 1 },
      });
      const next = await store.claimTask({ workerId: 'alive' });
      expect(next?.id).toBe('a');
      await expectLokiError(store.completeTask('a', 'crashed', null), 'TASK_LEASE_LOST');
      await store.completeTask('a', 'alive', null);
    });

    it('reclaims expired leases during a claim too', async () => {
      await store.insertTasks([newTask('a', { timeoutSeconds: 10 })]);
      await store.claimTask({ workerId: 'crashed' });
      expect(await store.claimTask({ workerId: 'other' })).toBeNull();
      clock.advance(10_000);
      expect((await store.claimTask({ workerId: 'other' }))?.id).toBe('a');
    });

    it('dead-letters a task whose lease keeps expiring', async () => {
      await store.insertTasks([newTask('poison', { timeoutSeconds: 1, maxAttempts: 2 })]);
      await store.claimTask({ workerId: 'w1' });
      clock.advance(1000);
      await store.claimTask({ workerId: 'w2' });
      clock.advance(1000);
      const [dead] = await queue.reclaimExpiredLeases();
      expect(dead).toMatchObject({ status: 'dead_letter', lastError: 'claim_timeout' });
    });

    it('extends a lease on heartbeat', async () => {
      await store.insertTasks([newTask('a', { timeoutSeconds: 10 })]);
      await store.claimTask({ workerId: 'w' });
      clock.advance(8_000);
      const extended = await queue.heartbeat('a', 'w');
      expect(extended.leaseExpiresAt).toBe(clock.now() + 10_000);
      clock.advance(8_000);
      expect(await queue.reclaimExpiredLeases()).toEqual([]);
      await expectLokiError(queue.heartbeat('a', 'intruder', 5), 'TASK_LEASE_LOST');
    });

    it('cancels unfinished tasks only, and a cancelled task can be retried', async () => {
      await store.insertTasks([newTask('a'), newTask('b'), newTask('c')]);
      await store.claimTask({ workerId: 'w' });
      const cancelledRunning = await store.cancelTask('a', 'no longer needed');
      expect(cancelledRunning.dependents).toEqual([]);
      expect(cancelledRunning.task).toMatchObject({
        status: 'cancelled',
        claimedBy: null,
        lastError: 'no longer needed',
      });
      await expectLokiError(store.completeTask('a', 'w', null), 'TASK_LEASE_LOST');
      await store.cancelTask('b', null);
      await expectLokiError(store.cancelTask('b', null), 'TASK_INVALID_TRANSITION');
      await store.claimTask({ workerId: 'w' });
      await store.completeTask('c', 'w', null);
      await expectLokiError(store.cancelTask('c', null), 'TASK_INVALID_TRANSITION');
      await expectLokiError(store.retryTask('c'), 'TASK_INVALID_TRANSITION');
      expect((await store.retryTask('b')).status).toBe('pending');
    });

    it('cancels what waits on a cancelled task with it, each with a reason naming it and its own event', async () => {
      await store.insertTasks([
        newTask('root'),
        newTask('child', { dependencies: ['root'] }),
        newTask('grandchild', { dependencies: ['child'] }),
        newTask('other'),
        newTask('also-other', { dependencies: ['other'] }),
      ]);
      const result = await store.cancelTask('root', 'scope cut');
      expect(result.task).toMatchObject({ id: 'root', status: 'cancelled', lastError: 'scope cut' });
      expect(result.dependents.map((task) => [task.id, task.status])).toEqual([
        ['child', 'cancelled'],
        ['grandchild', 'cancelled'],
      ]);
      for (const dependent of result.dependents) {
        expect(dependent.lastError).toContain('root');
        const events = await store.listEvents({ taskId: dependent.id });
        expect(events.at(-1)).toMatchObject({ type: 'task.cancelled', data: { previousStatus: 'pending' } });
        expect(JSON.stringify(events.at(-1)?.data)).toContain('root');
      }
      expect((await store.getTask('other'))?.status).toBe('pending');
      expect((await store.getTask('also-other'))?.status).toBe('pending');
      // Nothing is left waiting on work that will not happen.
      await store.claimTask({ workerId: 'w' });
      await store.completeTask('other', 'w', null);
      expect((await store.claimTask({ workerId: 'w' }))?.id).toBe('also-other');
      expect(await store.claimTask({ workerId: 'w' })).toBeNull();
    });

    it('releases a held task to pending at once, keeping its attempt and failure counts', async () => {
      await queue.enqueue({ id: 'a', type: 'eng-backend', title: 'a', maxAttempts: 5 });
      await queue.claim({ workerId: 'w1' });
      const failed = await queue.fail('a', 'w1', 'boom');
      clock.set(failed.availableAt);
      await queue.claim({ workerId: 'w1' });
      clock.advance(500);
      const released = await queue.release('a', 'w1', 'run stopped');
      expect(released).toMatchObject({
        status: 'pending',
        attemptCount: 2,
        failureCount: 1,
        claimedBy: null,
        claimedAt: null,
        leaseExpiresAt: null,
        availableAt: clock.now(),
        updatedAt: clock.now(),
      });
      expect(await store.getTask('a')).toEqual(released);
      const next = await store.claimTask({ workerId: 'w2' });
      expect(next).toMatchObject({ id: 'a', claimedBy: 'w2', attemptCount: 3, failureCount: 1 });
    });

    it('releases a held task to wait until a given time, counting no failure', async () => {
      await queue.enqueue({ id: 'a', type: 'eng-backend', title: 'a' });
      await queue.claim({ workerId: 'w1' });
      const notBefore = clock.now() + 30_000;
      const released = await queue.release('a', 'w1', 'rate limited', notBefore);
      expect(released).toMatchObject({
        status: 'pending',
        attemptCount: 1,
        failureCount: 0,
        claimedBy: null,
        availableAt: notBefore,
      });
      expect((await store.listEvents()).at(-1)?.data).toEqual({
        workerId: 'w1',
        reason: 'rate limited',
        availableAt: notBefore,
      });
      expect(await store.claimTask({ workerId: 'w2' })).toBeNull();
      clock.set(notBefore);
      expect(await store.claimTask({ workerId: 'w2' })).toMatchObject({ id: 'a', attemptCount: 2 });
      // A time already past makes it claimable at once.
      await store.releaseTask('a', 'w2', 'stopped', clock.now() - 5_000);
      expect(await store.getTask('a')).toMatchObject({ status: 'pending', availableAt: clock.now() });
    });

    it('refuses to release a task the worker does not hold', async () => {
      await store.insertTasks([newTask('a'), newTask('b')]);
      await store.claimTask({ workerId: 'w1', taskId: 'a' });
      await expectLokiError(store.releaseTask('a', 'w2', 'stop'), 'TASK_LEASE_LOST');
      await expectLokiError(store.releaseTask('b', 'w1', 'stop'), 'TASK_LEASE_LOST');
      await expectLokiError(store.releaseTask('missing', 'w1', 'stop'), 'TASK_NOT_FOUND');
      await expectLokiError(store.releaseTask('missing', null, 'stop'), 'TASK_NOT_FOUND');
      expect(await store.getTask('a')).toMatchObject({ status: 'in_progress', claimedBy: 'w1' });
      expect((await store.listEvents()).map((event) => event.type)).not.toContain('task.released');
    });

    it('leaves a task that is not in progress alone when released by nobody in particular', async () => {
      await store.insertTasks([newTask('waiting'), newTask('done')]);
      await store.claimTask({ workerId: 'w', taskId: 'done' });
      await store.completeTask('done', 'w', 'ok');
      const waiting = await store.getTask('waiting');
      const done = await store.getTask('done');
      const eventCount = (await store.listEvents()).length;
      clock.advance(1000);
      expect(await store.releaseTask('waiting', null, 'resume')).toEqual(waiting);
      expect(await store.releaseTask('done', null, 'resume')).toEqual(done);
      expect(await store.getTask('waiting')).toEqual(waiting);
      expect(await store.getTask('done')).toEqual(done);
      expect(await store.listEvents()).toHaveLength(eventCount);
    });

    it('appends task.released naming the previous holder, also when released by nobody in particular', async () => {
      await store.insertTasks([newTask('a'), newTask('b')]);
      await store.claimTask({ workerId: 'stopping', taskId: 'a' });
      await store.claimTask({ workerId: 'dead-process', taskId: 'b' });
      await store.releaseTask('a', 'stopping', 'interrupted');
      const releasedB = await store.releaseTask('b', null, 'resumed run took it back');
      expect(releasedB).toMatchObject({
        status: 'pending',
        claimedBy: null,
        attemptCount: 1,
        failureCount: 0,
      });
      const events = await store.listEvents();
      expect(events.slice(-2).map((event) => [event.type, event.taskId, event.data])).toEqual([
        ['task.released', 'a', { workerId: 'stopping', reason: 'interrupted' }],
        ['task.released', 'b', { workerId: 'dead-process', reason: 'resumed run took it back' }],
      ]);
    });

    it('defers a held task until the tasks added with it complete', async () => {
      await store.insertTasks([newTask('base'), newTask('a', { priority: 10, dependencies: ['base'] })]);
      await store.claimTask({ workerId: 'w', taskId: 'base' });
      await store.completeTask('base', 'w', null);
      await store.claimTask({ workerId: 'w', taskId: 'a' });
      clock.advance(1000);
      const deferred = await store.deferTask(
        'a',
        'w',
        [newTask('fix', { priority: 1, idempotencyKey: 'resolve:a' })],
        'merge conflict',
      );
      expect(deferred).toMatchObject({
        status: 'pending',
        dependencies: ['base', 'fix'],
        attemptCount: 1,
        failureCount: 0,
        claimedBy: null,
        leaseExpiresAt: null,
        availableAt: clock.now(),
      });
      expect(await store.getTask('fix')).toMatchObject({ status: 'pending', idempotencyKey: 'resolve:a' });
      // The higher-priority task waits: only its resolution is claimable.
      expect((await store.claimTask({ workerId: 'w' }))?.id).toBe('fix');
      expect(await store.claimTask({ workerId: 'w' })).toBeNull();
      await store.completeTask('fix', 'w', null);
      const again = await store.claimTask({ workerId: 'w' });
      expect(again).toMatchObject({ id: 'a', attemptCount: 2, dependencies: ['base', 'fix'] });
      const events = await store.listEvents();
      expect(events.map((event) => `${event.type}:${event.taskId}`).slice(-5)).toEqual([
        'task.enqueued:fix',
        'task.deferred:a',
        'task.claimed:fix',
        'task.completed:fix',
        'task.claimed:a',
      ]);
      expect(events.find((event) => event.type === 'task.deferred')?.data).toEqual({
        workerId: 'w',
        addedDependencies: ['fix'],
        reason: 'merge conflict',
      });
    });

    it('defers nothing and inserts nothing for a worker that does not hold the task', async () => {
      await store.insertTasks([newTask('a'), newTask('idle')]);
      await store.claimTask({ workerId: 'w1', taskId: 'a' });
      const before = await store.getTask('a');
      const eventCount = (await store.listEvents()).length;
      await expectLokiError(store.deferTask('a', 'w2', [newTask('fix')], 'conflict'), 'TASK_LEASE_LOST');
      await expectLokiError(store.deferTask('idle', 'w1', [newTask('fix')], 'conflict'), 'TASK_LEASE_LOST');
      await expectLokiError(store.deferTask('missing', 'w1', [newTask('fix')], 'conflict'), 'TASK_NOT_FOUND');
      expect(await store.getTask('fix')).toBeNull();
      expect(await store.getTask('a')).toEqual(before);
      expect(await store.listEvents()).toHaveLength(eventCount);
    });

    it('defers nothing when a new task is invalid for insertTasks, leaving the task in progress', async () => {
      await store.insertTasks([newTask('a'), newTask('b', { idempotencyKey: 'plan:b' })]);
      await store.claimTask({ workerId: 'w', taskId: 'a' });
      const before = await store.getTask('a');
      const eventCount = (await store.listEvents()).length;
      await expectLokiError(
        store.deferTask('a', 'w', [newTask('fix'), newTask('b')], 'conflict'),
        'TASK_DUPLICATE_ID',
      );
      await expectLokiError(
        store.deferTask('a', 'w', [newTask('fix', { idempotencyKey: 'plan:b' })], 'conflict'),
        'TASK_DUPLICATE_IDEMPOTENCY_KEY',
      );
      await expectLokiError(
        store.deferTask('a', 'w', [newTask('fix', { dependencies: ['ghost'] })], 'conflict'),
        'TASK_DEPENDENCY_UNKNOWN',
      );
      expect(await store.getTask('fix')).toBeNull();
      expect(await store.getTask('a')).toEqual(before);
      expect(before).toMatchObject({ status: 'in_progress', claimedBy: 'w', dependencies: [] });
      expect(await store.listEvents()).toHaveLength(eventCount);
    });

    it('refuses a deferral that would deadlock: a new task waiting, even through stored tasks, for the deferred one', async () => {
      await store.insertTasks([newTask('a'), newTask('after-a', { dependencies: ['a'] })]);
      await store.claimTask({ workerId: 'w', taskId: 'a' });
      const eventCount = (await store.listEvents()).length;
      await expectLokiError(
        queue.defer('a', 'w', [{ id: 'fix', type: 'eng-backend', title: 'fix', dependencies: ['a'] }], 'x'),
        'TASK_DEPENDENCY_CYCLE',
      );
      await expectLokiError(
        queue.defer(
          'a',
          'w',
          [
            { id: 'fix', type: 'eng-backend', title: 'fix', dependencies: ['check'] },
            { id: 'check', type: 'eng-backend', title: 'check', dependencies: ['fix'] },
          ],
          'x',
        ),
        'TASK_DEPENDENCY_CYCLE',
      );
      await expectLokiError(
        store.deferTask('a', 'w', [newTask('fix', { dependencies: ['after-a'] })], 'x'),
        'TASK_DEPENDENCY_CYCLE',
      );
      expect(await store.getTask('fix')).toBeNull();
      expect(await store.getTask('a')).toMatchObject({
        status: 'in_progress',
        claimedBy: 'w',
        dependencies: [],
      });
      expect(await store.listEvents()).toHaveLength(eventCount);
      const deferred = await queue.defer(
        'a',
        'w',
        [{ id: 'fix', type: 'eng-backend', title: 'fix' }],
        'merge conflict',
      );
      expect(deferred).toMatchObject({ status: 'pending', dependencies: ['fix'] });
    });

    it('changes priority and the claim order follows', async () => {
      await store.insertTasks([newTask('a', { priority: 5 }), newTask('b', { priority: 5 })]);
      await queue.prioritize('b', 9);
      expect((await store.claimTask({ workerId: 'w' }))?.id).toBe('b');
      await expectLokiError(queue.prioritize('a', 11), 'TASK_PRIORITY_OUT_OF_RANGE');
      await expectLokiError(queue.prioritize('a', 0), 'TASK_PRIORITY_OUT_OF_RANGE');
      await expectLokiError(queue.prioritize('missing', 3), 'TASK_NOT_FOUND');
    });

    it('rejects a whole batch on an unknown dependency, inserting nothing', async () => {
      await expectLokiError(
        store.insertTasks([newTask('a'), newTask('b', { dependencies: ['a', 'ghost'] })]),
        'TASK_DEPENDENCY_UNKNOWN',
      );
      expect(await store.listTasks()).toEqual([]);
      expect(await store.listEvents()).toEqual([]);
    });

    it('accepts dependencies on stored tasks and on tasks earlier or later in the batch', async () => {
      await store.insertTasks([newTask('stored')]);
      await store.insertTasks([
        newTask('x', { dependencies: ['stored', 'y'] }),
        newTask('y', { dependencies: ['stored'] }),
      ]);
      expect((await store.getTask('x'))?.dependencies).toEqual(['stored', 'y']);
    });

    it('rejects duplicate idempotency keys and ids, naming the existing task', async () => {
      await store.insertTasks([newTask('a', { idempotencyKey: 'plan:1' })]);
      await expectLokiError(
        store.insertTasks([newTask('b', { idempotencyKey: 'plan:1' })]),
        'TASK_DUPLICATE_IDEMPOTENCY_KEY',
      );
      await expectLokiError(
        store.insertTasks([newTask('c', { idempotencyKey: 'k' }), newTask('d', { idempotencyKey: 'k' })]),
        'TASK_DUPLICATE_IDEMPOTENCY_KEY',
      );
      await expectLokiError(store.insertTasks([newTask('a')]), 'TASK_DUPLICATE_ID');
      const error = await store
        .insertTasks([newTask('e', { idempotencyKey: 'plan:1' })])
        .catch((caught: unknown) => caught);
      expect(String(error)).toContain('"a"');
      expect((await store.listTasks()).map((task) => task.id)).toEqual(['a']);
    });

    it('appends one event per transition, in order, in the same transaction', async () => {
      await queue.enqueue({ id: 'a', type: 'eng-backend', title: 'a', maxAttempts: 2 });
      await queue.claim({ workerId: 'w' });
      await queue.fail('a', 'w', 'first');
      clock.advance(1_000_000);
      await queue.claim({ workerId: 'w' });
      await queue.fail('a', 'w', 'second');
      await queue.retry('a');
      await queue.prioritize('a', 8);
      await queue.claim({ workerId: 'w' });
      await queue.complete('a', 'w', { ok: true });
      const events = await store.listEvents({ taskId: 'a' });
      expect(events.map((event) => event.type)).toEqual([
        'task.enqueued',
        'task.claimed',
        'task.failed',
        'task.claimed',
        'task.dead_lettered',
        'task.retried',
        'task.reprioritized',
        'task.claimed',
        'task.completed',
      ]);
      const sequences = events.map((event) => event.sequence);
      expect([...sequences].sort((left, right) => left - right)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(sequences.length);
      const after = await store.listEvents({ afterSequence: sequences[6] ?? 0 });
      expect(after.map((event) => event.type)).toEqual(['task.claimed', 'task.completed']);
    });

    it('lists and counts tasks by status', async () => {
      await store.insertTasks([newTask('a'), newTask('b'), newTask('c', { type: 'ops-sre' })]);
      await store.claimTask({ workerId: 'w' });
      const counts = await store.countTasks();
      expect(counts).toEqual({
        pending: 2,
        in_progress: 1,
        completed: 0,
        failed: 0,
        dead_letter: 0,
        cancelled: 0,
      });
      expect((await store.listTasks({ statuses: ['pending'] })).map((task) => task.id)).toEqual(['b', 'c']);
      expect((await store.listTasks({ type: 'ops-sre' })).map((task) => task.id)).toEqual(['c']);
      expect(await store.listTasks({ limit: 1 })).toHaveLength(1);
    });

    it('keeps runs with their phase changes as events', async () => {
      expect(await store.getLatestRun()).toBeNull();
      const run = await store.createRun({ id: 'run-1', prdPath: '.loki/specs/prd.md', phase: 'bootstrap' });
      expect(run).toMatchObject({
        id: 'run-1',
        status: 'running',
        phase: 'bootstrap',
        control: 'none',
        endedAt: null,
      });
      clock.advance(5);
      await store.updateRun('run-1', { phase: 'discovery' });
      const ended = await store.updateRun('run-1', { status: 'completed' });
      expect(ended).toMatchObject({ status: 'completed', phase: 'discovery', endedAt: clock.now() });
      expect(await store.getLatestRun()).toEqual(ended);
      const types = (await store.listEvents()).map((event) => `${event.type}:${event.runId}`);
      expect(types).toEqual([
        'run.started:run-1',
        'phase.entered:run-1',
        'phase.entered:run-1',
        'run.ended:run-1',
      ]);
      const lifecycle = (await store.listEvents()).filter((event) => event.type.startsWith('run.'));
      expect(lifecycle.map((event) => event.data)).toEqual([
        { prdPath: '.loki/specs/prd.md', resumed: false },
        { status: 'completed', outcome: 'completed', exitCode: null },
      ]);
    });

    it('writes one run.started per session and one run.ended with the outcome and exit code', async () => {
      await store.createRun({ id: 'run-1', prdPath: null, phase: 'bootstrap' });
      const blocked = await store.updateRun('run-1', { ending: { outcome: 'blocked', exitCode: 5 } });
      expect(blocked).toMatchObject({ status: 'failed', endedAt: clock.now() });
      // A resume takes the run up again, also one a killed session left running.
      expect(await store.updateRun('run-1', { resume: true })).toMatchObject({
        status: 'running',
        endedAt: null,
      });
      await store.updateRun('run-1', { resume: true });
      const budget = await store.updateRun('run-1', { ending: { outcome: 'budget', exitCode: 4 } });
      expect(budget.status).toBe('stopped');
      await expect(
        store.updateRun('run-1', { status: 'completed', ending: { outcome: 'failed', exitCode: 1 } }),
      ).rejects.toThrow(/status completed and failed/);
      const lifecycle = (await store.listEvents()).filter(
        (event) => event.type === 'run.started' || event.type === 'run.ended',
      );
      expect(lifecycle.map((event) => [event.type, event.data])).toEqual([
        ['run.started', { prdPath: null, resumed: false }],
        ['run.ended', { status: 'failed', outcome: 'blocked', exitCode: 5 }],
        ['run.started', { prdPath: null, resumed: true }],
        ['run.started', { prdPath: null, resumed: true }],
        ['run.ended', { status: 'stopped', outcome: 'budget', exitCode: 4 }],
      ]);
    });

    it('records how a run was started with the run, and again when it changes', async () => {
      const settings = {
        provider: 'scripted',
        models: { planning: null, default: 'model-d', fast: null },
        script: '/somewhere/session.json',
        parallel: 3,
        budgetUsd: 2,
        maxTaskAttempts: 3,
        perpetual: false,
        maxIterations: null,
        deploy: true,
        store: { kind: store.kind, location: store.location },
      };
      const run = await store.createRun({
        id: 'run-1',
        prdPath: null,
        phase: 'bootstrap',
        settings: { settings, given: ['provider', 'script'] },
      });
      expect(run.settings).toEqual(settings);
      expect((await store.updateRun('run-1', { status: 'stopped' })).settings).toEqual(settings);
      const resumed = await store.updateRun('run-1', {
        status: 'running',
        settings: { settings: { ...settings, parallel: 1 }, given: ['parallel'] },
      });
      expect(resumed.settings).toEqual({ ...settings, parallel: 1 });
      expect(await store.getLatestRun()).toEqual(resumed);
      const recorded = (await store.listEvents()).filter((event) => event.type === 'run.settings_recorded');
      expect(recorded.map((event) => event.data)).toEqual([
        { settings, given: ['provider', 'script'] },
        { settings: { ...settings, parallel: 1 }, given: ['parallel'] },
      ]);
      // A run recorded without settings reads back as null.
      await store.createRun({ id: 'run-2', prdPath: null, phase: 'bootstrap' });
      expect((await store.getLatestRun())?.settings).toBeNull();
    });

    it('records pause, continue and stop requests from any connection, each with its event; a repeat changes nothing', async () => {
      const created = await store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
      expect(created.control).toBe('none');
      const before = (await store.listEvents()).length;
      // Requests come from other processes (another terminal, the dashboard); the run reads its own row.
      const other = await connectAgain(store, clock);
      try {
        clock.advance(10);
        const paused = await other.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' });
        expect(paused).toEqual({
          run: { ...created, control: 'pause', updatedAt: clock.now() },
          isChanged: true,
        });
        expect(await store.getRun('run-1')).toEqual(paused.run);
        expect(await other.requestRunControl('run-1', { action: 'pause', requestedBy: 'dashboard' })).toEqual(
          {
            run: paused.run,
            isChanged: false,
          },
        );
        const continued = await other.requestRunControl('run-1', {
          action: 'continue',
          requestedBy: 'dashboard',
        });
        expect(continued).toMatchObject({ isChanged: true, run: { control: 'none', status: 'running' } });
        expect(
          (await other.requestRunControl('run-1', { action: 'continue', requestedBy: 'cli' })).isChanged,
        ).toBe(false);
        await other.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' });
        // A stop wins over a pause and stays: neither a pause nor a continue takes it back.
        const stopping = await other.requestRunControl('run-1', { action: 'stop', requestedBy: 'signal' });
        expect(stopping).toMatchObject({ isChanged: true, run: { control: 'stop', status: 'running' } });
        expect(
          (await other.requestRunControl('run-1', { action: 'stop', requestedBy: 'cli' })).isChanged,
        ).toBe(false);
        await expectLokiError(
          other.requestRunControl('run-1', { action: 'continue', requestedBy: 'cli' }),
          'RUN_STOPPING',
        );
        await expectLokiError(
          other.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' }),
          'RUN_STOPPING',
        );
      } finally {
        await other.close();
      }
      expect((await store.getRun('run-1'))?.control).toBe('stop');
      const events = (await store.listEvents()).slice(before);
      expect(events.map((event) => [event.type, event.runId, event.taskId, event.data])).toEqual([
        ['run.paused', 'run-1', null, { requestedBy: 'cli' }],
        ['run.continued', 'run-1', null, { requestedBy: 'dashboard' }],
        ['run.paused', 'run-1', null, { requestedBy: 'cli' }],
        ['run.stop_requested', 'run-1', null, { requestedBy: 'signal' }],
      ]);
    });

    it('refuses control requests for an unknown run and for a run that is not running, changing nothing', async () => {
      await expectLokiError(
        store.requestRunControl('missing', { action: 'stop', requestedBy: 'cli' }),
        'RUN_NOT_FOUND',
      );
      expect(await store.getRun('missing')).toBeNull();
      await store.createRun({ id: 'run-1', prdPath: null, phase: 'bootstrap' });
      const stopped = await store.updateRun('run-1', { status: 'stopped' });
      const before = await store.listEvents();
      for (const action of ['stop', 'pause', 'continue'] as const) {
        await expectLokiError(
          store.requestRunControl('run-1', { action, requestedBy: 'cli' }),
          'RUN_NOT_RUNNING',
        );
      }
      expect(await store.listEvents()).toEqual(before);
      expect(await store.getRun('run-1')).toEqual(stopped);
    });

    it('keeps a request through status changes until a new session of the run clears it', async () => {
      await store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
      await store.requestRunControl('run-1', { action: 'stop', requestedBy: 'cli' });
      // Its session ended (stopped), or died without recording an end: the request stays on the row.
      expect((await store.updateRun('run-1', { status: 'stopped' })).control).toBe('stop');
      expect((await store.updateRun('run-1', { status: 'running' })).control).toBe('stop');
      const before = (await store.listEvents()).length;
      expect(await store.updateRun('run-1', { control: 'none' })).toMatchObject({
        status: 'running',
        control: 'none',
      });
      // Clearing what is clear appends nothing.
      await store.updateRun('run-1', { control: 'none' });
      expect((await store.listEvents()).slice(before).map((event) => [event.type, event.data])).toEqual([
        ['run.continued', { requestedBy: 'resume' }],
      ]);
      const paused = await store.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' });
      expect(paused.run.control).toBe('pause');
    });

    it('reads a consistent snapshot for the projections', async () => {
      await store.insertTasks([newTask('a'), newTask('b')]);
      await store.claimTask({ workerId: 'worker-9' });
      const snapshot = await store.readSnapshot();
      expect(snapshot.tasks.map((task) => task.id)).toEqual(['a', 'b']);
      expect(snapshot.counts.in_progress).toBe(1);
      expect(snapshot.activeWorkers).toEqual(['worker-9']);
      expect(snapshot.lastEventSequence).toBe((await store.listEvents()).at(-1)?.sequence);
      expect(snapshot.lastEventAt).toBe(clock.now());
      const summary = await store.readSummary();
      expect(summary).toEqual({
        trippedBreakers: [],
        counts: snapshot.counts,
        latestRun: null,
        activeWorkers: ['worker-9'],
        lastEventSequence: snapshot.lastEventSequence,
        lastEventAt: snapshot.lastEventAt,
      });
    });

    it('persists circuit breakers and records state changes as events', async () => {
      expect(await store.loadBreaker('provider:anthropic')).toBeNull();
      const open = {
        name: 'provider:anthropic',
        state: 'open' as const,
        consecutiveFailures: 5,
        halfOpenSuccesses: 0,
        openedAt: clock.now(),
        updatedAt: clock.now(),
      };
      await store.saveBreaker({ ...open, state: 'closed', consecutiveFailures: 4, openedAt: null }, false);
      await store.saveBreaker(open, true);
      expect(await store.loadBreaker('provider:anthropic')).toEqual(open);
      expect(await store.listBreakers()).toEqual([open]);
      const events = await store.listEvents();
      expect(events.map((event) => [event.type, event.data])).toEqual([
        ['breaker.changed', { breaker: 'provider:anthropic', state: 'open', consecutiveFailures: 5 }],
      ]);
    });

    it('applies concurrent breaker updates from several connections one after the other, losing none', async () => {
      const others = await Promise.all([1, 2, 3].map(() => connectAgain(store, clock)));
      try {
        const connections = [store, ...others];
        const count = (current: BreakerSnapshot | null) => ({
          next: {
            name: 'provider:anthropic',
            state: 'closed' as const,
            consecutiveFailures: (current?.consecutiveFailures ?? 0) + 1,
            halfOpenSuccesses: 0,
            openedAt: null,
            updatedAt: clock.now(),
          },
          changed: false,
        });
        const failures = 40;
        await Promise.all(
          Array.from({ length: failures }, (_, index) =>
            connections[index % connections.length]?.updateBreaker('provider:anthropic', count),
          ),
        );
        expect((await store.loadBreaker('provider:anthropic'))?.consecutiveFailures).toBe(failures);
        // A transition that decides nothing writes nothing and returns the stored state.
        const before = await store.loadBreaker('provider:anthropic');
        expect(await store.updateBreaker('provider:anthropic', () => null)).toEqual(before);
        expect(await store.updateBreaker('provider:missing', () => null)).toBeNull();
        // A changed state records its event in the same transaction.
        await store.updateBreaker('provider:anthropic', (current) =>
          current === null
            ? null
            : { next: { ...current, state: 'open', openedAt: clock.now() }, changed: true },
        );
        expect((await store.listEvents()).map((event) => [event.type, event.data])).toEqual([
          [
            'breaker.changed',
            { breaker: 'provider:anthropic', state: 'open', consecutiveFailures: failures },
          ],
        ]);
      } finally {
        await Promise.all(others.map((other) => other.close()));
      }
    });
  });
}
