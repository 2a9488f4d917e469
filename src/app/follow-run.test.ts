import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottledProjections } from './follow-run.ts';

const INTERVAL = 1000;

/** A projection rewrite that takes `milliseconds` of (fake) time, recording when each ran. */
function slowRefresh(milliseconds: number) {
  const writes: { startedAt: number; endedAt: number | null }[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const refresh = async () => {
    const write = { startedAt: Date.now(), endedAt: null as number | null };
    writes.push(write);
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((resolve) => setTimeout(resolve, milliseconds));
    running -= 1;
    write.endedAt = Date.now();
  };
  return { refresh, writes, mostAtOnce: () => mostAtOnce };
}

describe('ThrottledProjections', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits a whole interval after a slow rewrite ends before the next one', async () => {
    const projections = slowRefresh(1500);
    const throttled = new ThrottledProjections(
      projections.refresh,
      (error) => {
        throw error;
      },
      INTERVAL,
    );

    throttled.request();
    await vi.advanceTimersByTimeAsync(10);
    throttled.request(); // during the first rewrite: one more is owed, not started
    await vi.advanceTimersByTimeAsync(5000);

    expect(projections.writes).toHaveLength(2);
    const [first, second] = projections.writes;
    expect(first?.endedAt).toBe(1500);
    expect(second?.startedAt).toBe(1500 + INTERVAL);
    expect(projections.mostAtOnce()).toBe(1);
  });

  it('coalesces a burst of requests into one rewrite now and one trailing rewrite', async () => {
    const projections = slowRefresh(10);
    const throttled = new ThrottledProjections(
      projections.refresh,
      (error) => {
        throw error;
      },
      INTERVAL,
    );

    for (let step = 0; step < 50; step += 1) {
      throttled.request();
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(5000);

    expect(projections.writes.map((write) => write.startedAt)).toEqual([0, 10 + INTERVAL]);
  });

  it('flush rewrites at once, after a rewrite under way, and leaves nothing pending', async () => {
    const projections = slowRefresh(100);
    const throttled = new ThrottledProjections(
      projections.refresh,
      (error) => {
        throw error;
      },
      INTERVAL,
    );

    throttled.request();
    await vi.advanceTimersByTimeAsync(20);
    throttled.request();
    const flushed = throttled.flush();
    await vi.advanceTimersByTimeAsync(200);
    await flushed;
    await vi.advanceTimersByTimeAsync(5000);

    expect(projections.writes.map((write) => write.startedAt)).toEqual([0, 100]);
    expect(projections.mostAtOnce()).toBe(1);
  });

  it('hands a failed rewrite to onError and keeps rewriting', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const throttled = new ThrottledProjections(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('disk full');
      },
      (error) => failures.push(error),
      INTERVAL,
    );

    throttled.request();
    await vi.advanceTimersByTimeAsync(INTERVAL + 10);
    throttled.request();
    await vi.advanceTimersByTimeAsync(10);

    expect(failures).toEqual([new Error('disk full')]);
    expect(calls).toBe(2);
  });
});
