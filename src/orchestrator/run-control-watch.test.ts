import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { SqliteStore } from '../store/index.ts';
import { RUN_CONTROL_POLL_MILLISECONDS, RunControlWatch } from './run-control-watch.ts';

describe('RunControlWatch', () => {
  let store: SqliteStore;

  beforeEach(async () => {
    vi.useFakeTimers();
    store = await SqliteStore.open(':memory:', { clock: new ManualClock() });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  it('acts on a request within one poll interval of 250 ms, well inside the second promised', async () => {
    expect(RUN_CONTROL_POLL_MILLISECONDS).toBe(250);
    await store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    const onStop = vi.fn();
    using watch = await RunControlWatch.start({ store, runId: 'run-1', onStop });

    await store.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' });
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS - 1);
    expect(watch.isPaused).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(watch.isPaused).toBe(true);

    await store.requestRunControl('run-1', { action: 'continue', requestedBy: 'cli' });
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS);
    expect(watch.isPaused).toBe(false);

    await store.requestRunControl('run-1', { action: 'stop', requestedBy: 'dashboard' });
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS);
    expect(onStop).toHaveBeenCalledTimes(1);
    // The stop stays on the row; it is acted on once.
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS * 4);
    expect(onStop).toHaveBeenCalledTimes(1);
  });

  it('clears a request left by an ended session when it starts, instead of obeying it', async () => {
    await store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    await store.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' });
    await store.requestRunControl('run-1', { action: 'stop', requestedBy: 'signal' });
    const onStop = vi.fn();
    using watch = await RunControlWatch.start({ store, runId: 'run-1', onStop });
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS * 2);
    expect([onStop.mock.calls.length, watch.isPaused]).toEqual([0, false]);
    expect((await store.getRun('run-1'))?.control).toBe('none');
    expect((await store.listEvents()).at(-1)).toMatchObject({
      type: 'run.continued',
      data: { requestedBy: 'resume' },
    });
  });

  it('waits for a new run to be recorded, then follows its requests', async () => {
    const onStop = vi.fn();
    using watch = await RunControlWatch.start({ store, runId: 'run-1', onStop });
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS * 2);
    expect(watch.isPaused).toBe(false);
    await store.createRun({ id: 'run-1', prdPath: null, phase: 'bootstrap' });
    await store.requestRunControl('run-1', { action: 'stop', requestedBy: 'cli' });
    await vi.advanceTimersByTimeAsync(RUN_CONTROL_POLL_MILLISECONDS);
    expect(onStop).toHaveBeenCalledTimes(1);
  });
});
