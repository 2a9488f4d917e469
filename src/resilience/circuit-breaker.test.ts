import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import { SqliteStore } from '../store/index.ts';
import { CircuitBreaker } from './circuit-breaker.ts';

describe('CircuitBreaker', () => {
  let directory: string;
  let store: SqliteStore;
  const clock = new ManualClock();
  const settings = { failureThreshold: 3, cooldownSeconds: 60, halfOpenRequests: 2 };

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'loki-breaker-'));
    store = await SqliteStore.open(join(directory, 'loki.db'), { clock });
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('opens at the threshold, half-opens after the cooldown, closes after the trial successes', async () => {
    const breaker = new CircuitBreaker('provider:anthropic', settings, clock, store);
    await breaker.recordFailure();
    await breaker.recordFailure();
    await breaker.recordSuccess();
    // A success resets the count: two more failures do not open it.
    await breaker.recordFailure();
    expect((await breaker.recordFailure()).state).toBe('closed');
    expect((await breaker.recordFailure()).state).toBe('open');

    const refused = await breaker.beforeCall().catch((error: unknown) => error);
    expect(isLokiError(refused) && refused.code).toBe('BREAKER_OPEN');
    clock.advance(59_999);
    await expect(breaker.beforeCall()).rejects.toThrow(/is open after 3 consecutive failures/);

    // The state survives a restart: a new breaker object reads it from the store.
    const afterRestart = new CircuitBreaker('provider:anthropic', settings, clock, store);
    clock.advance(1);
    await afterRestart.beforeCall();
    expect((await afterRestart.snapshot()).state).toBe('half_open');
    expect((await afterRestart.recordSuccess()).state).toBe('half_open');
    expect((await afterRestart.recordSuccess()).state).toBe('closed');

    const states = (await store.listEvents())
      .filter((event) => event.type === 'breaker.changed')
      .map((event) => (event.type === 'breaker.changed' ? event.data.state : ''));
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('re-opens on a failure while half-open', async () => {
    const breaker = new CircuitBreaker('agent-type:eng-qa', settings, clock, store);
    for (let failure = 0; failure < 3; failure += 1) await breaker.recordFailure();
    clock.advance(60_000);
    expect((await breaker.snapshot()).state).toBe('half_open');
    const reopened = await breaker.recordFailure();
    expect(reopened).toMatchObject({ state: 'open', openedAt: clock.now() });
  });

  it('counts every one of many concurrent failures, recorded through several connections', async () => {
    const connections = await Promise.all(
      [1, 2, 3].map(() => SqliteStore.open(join(directory, 'loki.db'), { clock })),
    );
    try {
      const breakers = connections.map(
        (connection) =>
          new CircuitBreaker(
            'provider:openai',
            { failureThreshold: 1000, cooldownSeconds: 60, halfOpenRequests: 1 },
            clock,
            connection,
          ),
      );
      await Promise.all(
        Array.from({ length: 30 }, (_, index) => breakers[index % breakers.length]?.recordFailure()),
      );
      expect((await store.loadBreaker('provider:openai'))?.consecutiveFailures).toBe(30);
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
  });

  it('says until when it is open, so that a refused task can wait without counting a failure', async () => {
    const breaker = new CircuitBreaker('provider:anthropic', settings, clock, store);
    for (let failure = 0; failure < 3; failure += 1) await breaker.recordFailure();
    const openedAt = clock.now();
    clock.advance(10_000);
    const refused = await breaker.beforeCall().catch((error: unknown) => error);
    expect(isLokiError(refused) && refused.context).toMatchObject({
      breaker: 'provider:anthropic',
      notBefore: openedAt + 60_000,
    });
  });
});
