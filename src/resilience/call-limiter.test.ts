import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { CallLimiter, NO_CALL_LIMITS } from './call-limiter.ts';

/** A limiter on a manual clock whose waits advance the clock and are recorded. */
function limiterWith(limits: ConstructorParameters<typeof CallLimiter>[0]) {
  const clock = new ManualClock(1_000_000);
  const waits: number[] = [];
  const limiter = new CallLimiter(limits, {
    clock,
    sleep: async (milliseconds) => {
      waits.push(milliseconds);
      clock.advance(milliseconds);
    },
  });
  return { clock, waits, limiter };
}

/** Settles pending promise callbacks, so that what is not resolved by now is really waiting. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await Promise.resolve();
}

describe('CallLimiter', () => {
  it('lets at most maxConcurrentRequests calls in at once, the waiting ones in arrival order', async () => {
    const { limiter } = limiterWith({ maxConcurrentRequests: 2, requestsPerMinute: null });
    const started: number[] = [];
    const releases = new Map<number, () => void>();
    const calls = [1, 2, 3, 4].map((call) =>
      limiter.acquire().then((release) => {
        started.push(call);
        releases.set(call, release);
      }),
    );
    await settle();
    expect(started).toEqual([1, 2]);
    expect(limiter.inFlight).toBe(2);
    releases.get(2)?.();
    await settle();
    expect(started).toEqual([1, 2, 3]);
    // Giving a slot back twice frees one slot only.
    releases.get(2)?.();
    await settle();
    expect(started).toEqual([1, 2, 3]);
    releases.get(1)?.();
    await Promise.all(calls);
    expect(started).toEqual([1, 2, 3, 4]);
  });

  it('spaces starts evenly by requestsPerMinute', async () => {
    const { clock, limiter } = limiterWith({ maxConcurrentRequests: null, requestsPerMinute: 60 });
    const startedAt: number[] = [];
    for (let call = 0; call < 3; call += 1) {
      const release = await limiter.acquire();
      startedAt.push(clock.now());
      release();
    }
    expect(startedAt).toEqual([1_000_000, 1_001_000, 1_002_000]);
  });

  it('starts nothing before the time the provider asked for', async () => {
    const { clock, waits, limiter } = limiterWith(NO_CALL_LIMITS);
    limiter.pauseUntil(clock.now() + 7_000);
    expect(limiter.pauseLeft()).toBe(7_000);
    (await limiter.acquire())();
    expect(waits).toEqual([7_000]);
    expect(limiter.pauseLeft()).toBe(0);
  });

  it('gives up a wait when its signal is aborted, leaving the slot to the others', async () => {
    const { limiter } = limiterWith({ maxConcurrentRequests: 1, requestsPerMinute: null });
    const first = await limiter.acquire();
    const controller = new AbortController();
    const abandoned = limiter.acquire(controller.signal);
    const next = limiter.acquire();
    controller.abort(new Error('stopped'));
    await expect(abandoned).rejects.toThrow('stopped');
    first();
    (await next)();
    expect(limiter.inFlight).toBe(0);
  });

  it('applies new limits to the calls already waiting', async () => {
    const { limiter } = limiterWith({ maxConcurrentRequests: 1, requestsPerMinute: null });
    const first = await limiter.acquire();
    let isSecondIn = false;
    const second = limiter.acquire().then((release) => {
      isSecondIn = true;
      return release;
    });
    await settle();
    expect(isSecondIn).toBe(false);
    limiter.configure({ maxConcurrentRequests: 2, requestsPerMinute: null });
    (await second)();
    first();
    expect(limiter.inFlight).toBe(0);
  });
});
