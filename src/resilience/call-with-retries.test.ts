import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import { SqliteStore } from '../store/index.ts';
import { CallLimiter, NO_CALL_LIMITS } from './call-limiter.ts';
import { callWithRetries, type FailureClassification } from './call-with-retries.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { queueWaitOf } from './queue-wait.ts';

class FakeHttpError extends Error {
  readonly status: number;
  readonly retryAfterMilliseconds: number | null;
  constructor(status: number, retryAfterMilliseconds: number | null = null) {
    super(`HTTP ${status}`);
    this.status = status;
    this.retryAfterMilliseconds = retryAfterMilliseconds;
  }
}

function classify(error: unknown): FailureClassification {
  if (!(error instanceof FakeHttpError)) throw error;
  const category = error.status === 429 ? 'rate_limited' : error.status === 401 ? 'permanent' : 'transient';
  return {
    category,
    code: error.status === 401 ? 'PROVIDER_AUTH' : `HTTP_${error.status}`,
    retryAfterMilliseconds: error.retryAfterMilliseconds,
    message: error.status === 401 ? 'anthropic rejected the API key: check ANTHROPIC_API_KEY' : error.message,
  };
}

describe('callWithRetries', () => {
  let directory: string;
  let store: SqliteStore;
  const clock = new ManualClock();
  let events: NewEvent[];
  let sleeps: number[];

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'loki-retries-'));
    store = await SqliteStore.open(join(directory, 'loki.db'), { clock });
    events = [];
    sleeps = [];
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  function options(maxRetries = 5, breakers: CircuitBreaker[] = []) {
    return {
      settings: { maxRetries, baseWaitMilliseconds: 1000, maxWaitMilliseconds: 30_000 },
      classify,
      breakers,
      provider: 'anthropic',
      emit: (event: NewEvent) => events.push(event),
      runId: null,
      taskId: 'task-1',
      random: () => 0,
      clock,
      sleep: async (milliseconds: number) => {
        sleeps.push(milliseconds);
        clock.advance(milliseconds);
      },
    };
  }

  function failing(...failures: FakeHttpError[]) {
    let call = 0;
    return async () => {
      const failure = failures[call];
      call += 1;
      if (failure !== undefined) throw failure;
      return 'ok';
    };
  }

  it('honours retry-after on 429 and backs off exponentially on 529/500, then succeeds', async () => {
    const result = await callWithRetries(
      failing(
        new FakeHttpError(429, 7000),
        new FakeHttpError(529),
        new FakeHttpError(500),
        new FakeHttpError(429, 999_999),
      ),
      options(),
    );
    expect(result).toBe('ok');
    // retry-after 7 s; then 1 s·2^1 and 1 s·2^2 for the 2nd and 3rd retries; a huge retry-after is capped at max wait.
    expect(sleeps).toEqual([7000, 2000, 4000, 30_000]);
    expect(events.filter((event) => event.type === 'agent.rate_limited')).toHaveLength(2);
    expect(events.filter((event) => event.type === 'agent.retry').map((event) => event.data)).toContainEqual({
      attempt: 1,
      delayMilliseconds: 7000,
      category: 'rate_limited',
      reason: 'HTTP 429',
    });
  });

  it('stops at once on a permanent failure with the message that says what to fix', async () => {
    const error = await callWithRetries(failing(new FakeHttpError(401)), options()).catch(
      (caught: unknown) => caught,
    );
    expect(isLokiError(error) && error.code).toBe('PROVIDER_AUTH');
    expect(String(error)).toContain('check ANTHROPIC_API_KEY');
    expect(sleeps).toEqual([]);
  });

  it('gives up after maxRetries', async () => {
    const error = await callWithRetries(
      failing(new FakeHttpError(500), new FakeHttpError(500), new FakeHttpError(500)),
      options(2),
    ).catch((caught: unknown) => caught);
    expect(isLokiError(error) && error.code).toBe('PROVIDER_RETRIES_EXHAUSTED');
    expect(sleeps).toHaveLength(2);
  });

  it('opens the breaker at its threshold and refuses further calls until the cooldown', async () => {
    const breaker = new CircuitBreaker(
      'provider:anthropic',
      { failureThreshold: 2, cooldownSeconds: 300, halfOpenRequests: 1 },
      clock,
      store,
    );
    const error = await callWithRetries(
      failing(new FakeHttpError(529), new FakeHttpError(529), new FakeHttpError(529)),
      options(5, [breaker]),
    ).catch((caught: unknown) => caught);
    expect(isLokiError(error) && error.code).toBe('BREAKER_OPEN');
    expect((await breaker.snapshot()).state).toBe('open');
    clock.advance(300_000);
    expect(await callWithRetries(async () => 'recovered', options(5, [breaker]))).toBe('recovered');
    expect((await breaker.snapshot()).state).toBe('closed');
  });

  it('gives the worker back when told to wait longer than the requeue threshold, with the time to try again', async () => {
    const limiter = new CallLimiter(NO_CALL_LIMITS, {
      clock,
      sleep: async (milliseconds) => {
        sleeps.push(milliseconds);
        clock.advance(milliseconds);
      },
    });
    const requeueing = { ...options(), limiter, requeueAboveMilliseconds: 5000 };
    // A short wait is waited out here.
    expect(await callWithRetries(failing(new FakeHttpError(429, 3000)), requeueing)).toBe('ok');
    expect(sleeps).toEqual([3000]);

    const refusedAt = clock.now();
    const error = await callWithRetries(failing(new FakeHttpError(429, 30_000)), requeueing).catch(
      (caught: unknown) => caught,
    );
    expect(isLokiError(error) && error.code).toBe('PROVIDER_RATE_LIMITED');
    expect(queueWaitOf(error)).toEqual({
      notBefore: refusedAt + 30_000,
      reason: expect.stringMatching(/rate limit/),
    });
    expect(sleeps).toEqual([3000]);

    // The provider's wait holds for the other calls too: they are given back without being made.
    let calls = 0;
    const other = await callWithRetries(async () => {
      calls += 1;
      return 'ok';
    }, requeueing).catch((caught: unknown) => caught);
    expect(queueWaitOf(other)?.notBefore).toBe(refusedAt + 30_000);
    expect(calls).toBe(0);
    // Without a threshold (a planning call) the same wait is waited out.
    expect(await callWithRetries(async () => 'planned', { ...options(), limiter })).toBe('planned');
    expect(sleeps).toEqual([3000, 30_000]);
  });

  it('holds a limiter slot for each attempt and gives it back whatever happened', async () => {
    const limiter = new CallLimiter(
      { maxConcurrentRequests: 1, requestsPerMinute: null },
      { clock, sleep: async () => undefined },
    );
    let inFlightDuringCall = 0;
    const result = await callWithRetries(
      async (attempt) => {
        inFlightDuringCall = Math.max(inFlightDuringCall, limiter.inFlight);
        if (attempt === 1) throw new FakeHttpError(500);
        return 'ok';
      },
      { ...options(), limiter },
    );
    expect(result).toBe('ok');
    expect(inFlightDuringCall).toBe(1);
    expect(limiter.inFlight).toBe(0);
    await callWithRetries(failing(new FakeHttpError(401)), { ...options(), limiter }).catch(() => 'refused');
    expect(limiter.inFlight).toBe(0);
  });
});
