/**
 * The part of the store conformance suite about the event log: what may be appended, how it is
 * read back, and when in-process listeners hear of it. `describeStoreConformance` runs it for every
 * adapter, so an adapter cannot pass one without the other.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import type { ConnectAgain, OpenStore } from './store-conformance.ts';
import type { Store } from './store.ts';
import type { NewTask } from './task-record.ts';

function newTask(id: string, runId: string | null = null): NewTask {
  return {
    id,
    type: 'eng-backend',
    title: `title of ${id}`,
    description: '',
    priority: 5,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId,
    timeoutSeconds: 60,
    maxAttempts: 3,
  };
}

/** What a caller that bypassed the types could hand the store. */
function malformed(event: unknown): NewEvent {
  return event as NewEvent;
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (caught: unknown) => caught,
  );
}

async function expectEventRefused(promise: Promise<unknown>, ...mentions: string[]): Promise<void> {
  const error = await refusal(promise);
  expect(isLokiError(error), `expected LokiError EVENT_INVALID, got ${String(error)}`).toBe(true);
  if (!isLokiError(error)) return;
  expect(error.code).toBe('EVENT_INVALID');
  expect(error.category).toBe('internal');
  for (const mention of mentions) expect(error.message).toContain(mention);
}

export function describeStoreEventConformance(
  adapterName: string,
  openStore: OpenStore,
  connectAgain: ConnectAgain,
): void {
  describe(`Store conformance, event log: ${adapterName}`, () => {
    let clock: ManualClock;
    let store: Store;

    beforeEach(async () => {
      clock = new ManualClock();
      store = await openStore(clock);
    });

    afterEach(async () => {
      await store.close();
    });

    it('refuses an event that does not match its type, naming the type and the field, and writes nothing', async () => {
      await expectEventRefused(
        store.appendEvent(
          malformed({
            type: 'task.claimed',
            runId: null,
            taskId: 'a',
            data: { workerId: 'w', attempt: 'first', leaseExpiresAt: 0 },
          }),
        ),
        'task.claimed',
        'data.attempt',
      );
      await expectEventRefused(
        store.appendEvent(malformed({ type: 'task.exploded', runId: null, taskId: null, data: {} })),
        'task.exploded',
      );
      await expectEventRefused(
        store.appendEvent(
          malformed({ type: 'phase.entered', runId: 'run-1', taskId: null, data: { phase: 'qa', extra: 1 } }),
        ),
        'phase.entered',
        'extra',
      );
      await expectEventRefused(
        store.appendEvent(malformed({ type: 'run.ended', runId: 'run-1', data: { status: 'completed' } })),
        'run.ended',
        'taskId',
      );
      expect(await store.listEvents()).toEqual([]);
      expect((await store.readSummary()).lastEventSequence).toBe(0);
    });

    it('refuses a transition whose event is invalid and leaves the task as it was', async () => {
      await store.insertTasks([newTask('a')]);
      const eventsBefore = await store.listEvents();
      // A reason that is not text: the row alone would take it (as text); the event may not.
      await expectEventRefused(
        store.cancelTask('a', malformed(42) as unknown as string),
        'task.cancelled',
        'data.reason',
      );
      expect((await store.getTask('a'))?.status).toBe('pending');
      expect(await store.listEvents()).toEqual(eventsBefore);
    });

    it('accepts a valid event as it was given and numbers it after the others', async () => {
      await store.insertTasks([newTask('a', 'run-1')]);
      clock.advance(7);
      const appended = await store.appendEvent({
        type: 'agent.tool_called',
        runId: 'run-1',
        taskId: 'a',
        data: { toolCallId: 'call-1', toolName: 'read_file', input: { path: 'x.ts', lines: [1, 2] } },
      });
      expect(appended).toEqual({
        type: 'agent.tool_called',
        runId: 'run-1',
        taskId: 'a',
        data: { toolCallId: 'call-1', toolName: 'read_file', input: { path: 'x.ts', lines: [1, 2] } },
        sequence: 2,
        createdAt: clock.now(),
      });
      expect((await store.listEvents()).at(-1)).toEqual(appended);
    });

    it('lists events by type, task and run, each filter narrowing the others, in sequence order', async () => {
      await store.createRun({ id: 'run-1', prdPath: null, phase: 'bootstrap' });
      await store.insertTasks([newTask('a', 'run-1'), newTask('b', 'run-1'), newTask('loose')]);
      await store.claimTask({ workerId: 'w', taskId: 'a' });
      await store.completeTask('a', 'w', null);
      await store.createRun({ id: 'run-2', prdPath: null, phase: 'bootstrap' });
      await store.insertTasks([newTask('c', 'run-2')]);
      const all = await store.listEvents();
      const describe = (events: readonly { type: string; taskId: string | null; runId: string | null }[]) =>
        events.map((event) => `${event.type}:${event.taskId ?? '-'}:${event.runId ?? '-'}`);

      expect(describe(await store.listEvents({ types: ['task.enqueued'] }))).toEqual([
        'task.enqueued:a:run-1',
        'task.enqueued:b:run-1',
        'task.enqueued:loose:-',
        'task.enqueued:c:run-2',
      ]);
      expect(
        describe(await store.listEvents({ types: ['task.claimed', 'task.completed', 'run.started'] })),
      ).toEqual([
        'run.started:-:run-1',
        'task.claimed:a:run-1',
        'task.completed:a:run-1',
        'run.started:-:run-2',
      ]);
      expect(await store.listEvents({ types: [] })).toEqual([]);
      expect(describe(await store.listEvents({ runId: 'run-2' }))).toEqual([
        'run.started:-:run-2',
        'phase.entered:-:run-2',
        'task.enqueued:c:run-2',
      ]);
      expect(
        describe(await store.listEvents({ runId: 'run-1', taskId: 'a', types: ['task.completed'] })),
      ).toEqual(['task.completed:a:run-1']);
      const claimed = all.find((event) => event.type === 'task.claimed');
      expect(
        describe(await store.listEvents({ runId: 'run-1', afterSequence: claimed?.sequence ?? 0, limit: 1 })),
      ).toEqual(['task.completed:a:run-1']);
      expect(await store.listEvents({ runId: 'run-missing' })).toEqual([]);
    });

    it('tells listeners of appended events once the transaction has committed, never of a rolled-back one', async () => {
      const other = await connectAgain(store, clock);
      try {
        const heard: number[][] = [];
        const seenByOtherConnection: Array<Promise<number[]>> = [];
        const stopListening = store.onEventsAppended((events) => {
          heard.push(events.map((event) => event.sequence));
          // Started inside the listener: a read from another connection finds the events only if
          // they are committed already.
          seenByOtherConnection.push(
            other.listEvents().then((stored) => stored.map((event) => event.sequence)),
          );
        });
        await store.createRun({ id: 'run-1', prdPath: null, phase: 'bootstrap' });
        await store.insertTasks([newTask('a'), newTask('b')]);
        expect(heard).toEqual([
          [1, 2],
          [3, 4],
        ]);
        expect(await Promise.all(seenByOtherConnection)).toEqual([
          [1, 2],
          [1, 2, 3, 4],
        ]);

        // Rolled back: a duplicate id, and an invalid event.
        await refusal(store.insertTasks([newTask('c'), newTask('a')]));
        await refusal(store.cancelTask('a', malformed(42) as unknown as string));
        expect(heard).toHaveLength(2);

        // A transition that appends nothing is not announced either.
        await store.claimTask({ workerId: 'w', taskId: 'a' });
        await store.extendLease('a', 'w', 1_000);
        expect(heard).toEqual([[1, 2], [3, 4], [5]]);

        stopListening();
        stopListening();
        await store.appendEvent({
          type: 'phase.entered',
          runId: 'run-1',
          taskId: null,
          data: { phase: 'qa' },
        });
        expect(heard).toHaveLength(3);
      } finally {
        await other.close();
      }
    });
  });
}
