import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { TaskQueue } from '../queue/index.ts';
import { SqliteStore } from '../store/index.ts';
import { runScheduler } from './scheduler.ts';
import type { TaskWorkerContext } from './task-worker.ts';

/** Polls (with a deadline, no fixed sleep) until `condition` holds. */
async function until(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await delay(5);
  }
}

describe('runScheduler while paused', () => {
  let store: SqliteStore;
  let queue: TaskQueue;
  let controller: AbortController;
  let paused: boolean;
  let asked: number;

  beforeEach(async () => {
    store = await SqliteStore.open(':memory:', { clock: new ManualClock() });
    queue = new TaskQueue(store);
    controller = new AbortController();
    paused = true;
    asked = 0;
  });
  afterEach(async () => {
    controller.abort();
    await store.close();
  });

  /** A paused scheduler never starts a task, so only what it reads before claiming is needed. */
  const schedule = () =>
    runScheduler({
      context: {
        workspace: { queue },
        runId: 'run-1',
        clock: new ManualClock(),
        signal: controller.signal,
        emit: () => undefined,
      } as unknown as TaskWorkerContext,
      workerLimit: () => ({ limit: 2, reason: null, changed: false }),
      requestedWorkers: 2,
      workerIdPrefix: 'run:run-1:1',
      pollMilliseconds: 2,
      isPaused: () => {
        asked += 1;
        return paused;
      },
    });

  it('claims nothing, however long it looks, and ends as stopped when the run stops', async () => {
    await queue.enqueue({ id: 'ready', type: 'eng-backend', title: 'Ready', runId: 'run-1' });
    const result = schedule();
    await until(() => asked >= 20, 'twenty looks at the pause');
    controller.abort();
    expect(await result).toEqual({ outcome: 'stopped' });
    expect((await queue.get('ready')).status).toBe('pending');
    expect((await store.listEvents()).map((event) => event.type)).toEqual(['task.enqueued']);
  });

  it('does not judge an idle queue while paused: a finished run waits for the continue', async () => {
    let hasEnded = false;
    const result = schedule().finally(() => {
      hasEnded = true;
    });
    await until(() => asked >= 20, 'twenty looks at the pause');
    expect(hasEnded).toBe(false);
    paused = false;
    expect(await result).toEqual({ outcome: 'done' });
  });
});
