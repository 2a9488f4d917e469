import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { SqliteStore } from '../store/index.ts';
import { EventBus, type EventBusStore, type EventStream, type StartTimer } from './event-bus.ts';
import type { LokiEvent, NewEvent } from './event-types.ts';

const directory = mkdtempSync(join(tmpdir(), 'loki-event-bus-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 20_000;

/** Consumes a stream in the background; tests wait on what it has received so far. */
class Collector {
  readonly events: LokiEvent[] = [];
  readonly done: Promise<unknown>;
  readonly #stream: EventStream;
  #onEvent: (() => void) | null = null;

  constructor(stream: EventStream) {
    this.#stream = stream;
    this.done = (async () => {
      for await (const event of stream) {
        this.events.push(event);
        this.#onEvent?.();
      }
    })().then(
      () => 'ended',
      (error: unknown) => error,
    );
  }

  get sequences(): number[] {
    return this.events.map((event) => event.sequence);
  }

  async waitFor(condition: () => boolean, description: string): Promise<void> {
    if (condition()) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#onEvent = () => {
          if (condition()) resolve();
        };
        timer = setTimeout(
          () => reject(new Error(`${description}: not within the limit; got ${this.sequences.join(',')}`)),
          WAIT_LIMIT_MILLISECONDS,
        );
      });
    } finally {
      this.#onEvent = null;
      clearTimeout(timer);
    }
  }

  async waitForSequence(sequence: number): Promise<void> {
    await this.waitFor(() => (this.events.at(-1)?.sequence ?? 0) >= sequence, `sequence ${sequence}`);
  }

  async stop(): Promise<unknown> {
    await this.#stream.return?.();
    return this.done;
  }
}

function text(taskId: string | null, runId: string | null, words: string): NewEvent {
  return { type: 'agent.text', runId, taskId, data: { text: words } };
}

function task(id: string, runId: string | null) {
  return {
    id,
    type: 'eng-backend',
    title: id,
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

/** Appends events from `writers` interleaved async loops; some transactions append several events. */
async function writeInterleaved(store: SqliteStore, writers: number, rounds: number): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let round = 0; round < rounds; round += 1) {
        await store.appendEvent(text(`w${writer}`, 'run-1', `writer ${writer} round ${round}`));
        if (round % 3 === 0)
          await store.insertTasks([
            task(`w${writer}-${round}-a`, 'run-1'),
            task(`w${writer}-${round}-b`, 'run-1'),
          ]);
        // Lets the other writers and the subscriber run between transactions.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
}

/** Real timers, counted while they are pending (started, and neither fired nor cancelled). */
class CountedTimers {
  pending = 0;

  readonly start: StartTimer = (callback, milliseconds) => {
    this.pending += 1;
    let isPending = true;
    const settle = () => {
      if (isPending) this.pending -= 1;
      isPending = false;
    };
    const timer = setTimeout(() => {
      settle();
      callback();
    }, milliseconds);
    return () => {
      clearTimeout(timer);
      settle();
    };
  };
}

function expectGapFree(sequences: readonly number[], from: number): void {
  expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, index) => from + index + 1));
}

describe('EventBus', () => {
  let databaseNumber = 0;
  let store: SqliteStore;

  beforeEach(async () => {
    databaseNumber += 1;
    store = await SqliteStore.open(join(directory, `bus-${databaseNumber}.db`));
  });

  afterEach(async () => {
    await store.close();
  });

  it('replays the stored events, then follows new ones in commit order, with no gap and no duplicate', async () => {
    for (let index = 0; index < 5; index += 1) await store.appendEvent(text(null, null, `before ${index}`));
    const collector = new Collector(new EventBus(store).subscribe());
    await collector.waitForSequence(5);
    await writeInterleaved(store, 4, 12);
    const stored = await store.listEvents();
    await collector.waitForSequence(stored.at(-1)?.sequence ?? 0);
    expect(await collector.stop()).toBe('ended');
    expect(collector.events).toEqual(stored);
    expectGapFree(collector.sequences, 0);
  });

  it('reads at most once per minimum interval, however many commits wake it, and misses none', async () => {
    let reads = 0;
    const counted: EventBusStore = {
      listEvents: (filter) => {
        reads += 1;
        return store.listEvents(filter);
      },
      onEventsAppended: (listener) => store.onEventsAppended(listener),
    };
    // Timers that fire only when the test says so: the pause between reads is under its control.
    const timers: { milliseconds: number; fire: () => void }[] = [];
    const startTimer: StartTimer = (fire, milliseconds) => {
      const timer = { milliseconds, fire };
      timers.push(timer);
      return () => {
        const index = timers.indexOf(timer);
        if (index !== -1) timers.splice(index, 1);
      };
    };
    const pauseTimer = async () => {
      for (;;) {
        const found = timers.find((timer) => timer.milliseconds === 1000);
        if (found !== undefined) return found;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const bus = new EventBus(counted, {
      startTimer,
      pollIntervalMilliseconds: 60_000,
      minimumReadIntervalMilliseconds: 1000,
    });
    const collector = new Collector(bus.subscribe());
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toBe(1);
    let last = 0;
    for (let number = 1; number <= 20; number += 1) {
      last = (await store.appendEvent(text('busy', null, String(number)))).sequence;
    }
    // Twenty commits woke it; it waits out the interval before reading again.
    (await pauseTimer()).fire();
    await collector.waitForSequence(last);
    expect(reads).toBe(2);
    expectGapFree(collector.sequences, 0);
    await collector.stop();
  });

  it('replays from any sequence number for a subscriber that starts late', async () => {
    await writeInterleaved(store, 2, 6);
    const stored = await store.listEvents();
    const last = stored.at(-1)?.sequence ?? 0;
    expect(last).toBeGreaterThan(10);
    const bus = new EventBus(store, { batchSize: 4 });
    for (let afterSequence = 0; afterSequence < last; afterSequence += 1) {
      const collector = new Collector(bus.subscribe({ afterSequence }));
      await collector.waitForSequence(last);
      await collector.stop();
      expect(collector.events).toEqual(stored.filter((event) => event.sequence > afterSequence));
    }
    // From the end: nothing until something new is committed, then exactly that.
    const caughtUp = new Collector(bus.subscribe({ afterSequence: last }));
    const next = await store.appendEvent(text(null, null, 'after'));
    await caughtUp.waitForSequence(next.sequence);
    await caughtUp.stop();
    expect(caughtUp.events).toEqual([next]);
  });

  it('hands over each read as one batch: the same events as one by one, a full batch at most', async () => {
    for (let index = 0; index < 10; index += 1) await store.appendEvent(text(null, null, `before ${index}`));
    const batches = new EventBus(store, { batchSize: 4 }).subscribeBatches();
    const sizes: number[] = [];
    const events: LokiEvent[] = [];
    for await (const batch of batches) {
      sizes.push(batch.length);
      events.push(...batch);
      if (events.length === 10) break;
    }
    // Stored before the subscription: read back in full batches, the rest in one.
    expect(sizes).toEqual([4, 4, 2]);
    expect(events).toEqual(await store.listEvents());
    const next = await store.appendEvent(text(null, null, 'after'));
    const resumed = new EventBus(store).subscribeBatches({ afterSequence: 10 });
    expect((await resumed.next()).value).toEqual([next]);
    await resumed[Symbol.asyncDispose]();
    expect(await resumed.next()).toEqual({ done: true, value: undefined });
  });

  it('follows events committed through another connection to the store, by polling it', async () => {
    await using other = await SqliteStore.open(store.location);
    const collector = new Collector(new EventBus(store, { pollIntervalMilliseconds: 10 }).subscribe());
    await writeInterleaved(other, 2, 6);
    const stored = await store.listEvents();
    await collector.waitForSequence(stored.at(-1)?.sequence ?? 0);
    await collector.stop();
    expect(collector.events).toEqual(stored);
  });

  it('delivers only the events matching the types, task and run asked for', async () => {
    const bus = new EventBus(store);
    const filters = [
      { types: ['task.enqueued' as const] },
      { types: ['agent.text' as const, 'run.started' as const] },
      { taskId: 'w1' },
      { runId: 'run-2' },
      { runId: 'run-2', types: ['agent.text' as const], taskId: 'w0' },
    ];
    const collectors = filters.map((filter) => new Collector(bus.subscribe(filter)));
    await writeInterleaved(store, 2, 4);
    await store.createRun({ id: 'run-2', prdPath: null, phase: 'bootstrap' });
    await store.appendEvent(text('w0', 'run-2', 'in run 2'));
    await store.appendEvent(text('w1', 'run-2', 'in run 2 too'));
    // Everything is written: each collector has caught up once it has the last event it matches.
    for (const [index, filter] of filters.entries()) {
      const expected = await store.listEvents(filter);
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      const collector = collectors[index];
      if (collector === undefined) throw new Error('no collector');
      await collector.waitForSequence(expected.at(-1)?.sequence ?? 0);
      await collector.stop();
      expect(collector.events, JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('never delivers a refused event: the next valid one follows the last without a gap', async () => {
    const collector = new Collector(new EventBus(store).subscribe());
    const first = await store.appendEvent(text(null, null, 'valid'));
    const refusal = await store
      .appendEvent({
        type: 'agent.text',
        runId: null,
        taskId: null,
        data: { words: 'x' },
      } as unknown as NewEvent)
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(isLokiError(refusal) && refusal.code).toBe('EVENT_INVALID');
    const second = await store.appendEvent(text(null, null, 'valid again'));
    await collector.waitForSequence(second.sequence);
    await collector.stop();
    expect(collector.events).toEqual([first, second]);
    expect(second.sequence).toBe(first.sequence + 1);
  });

  describe('ending a subscription', () => {
    /** The store as the bus sees it, counting the listeners it holds. */
    function countingStore(): EventBusStore & { listeners: number } {
      const counting = {
        listeners: 0,
        listEvents: store.listEvents.bind(store),
        onEventsAppended: (listener: Parameters<EventBusStore['onEventsAppended']>[0]) => {
          const remove = store.onEventsAppended(listener);
          counting.listeners += 1;
          return () => {
            counting.listeners -= 1;
            remove();
          };
        },
      };
      return counting;
    }

    it('ends normally when its signal aborts, even while waiting, leaving no listener or timer', async () => {
      const counted = countingStore();
      const timers = new CountedTimers();
      const controller = new AbortController();
      const bus = new EventBus(counted, { startTimer: timers.start, pollIntervalMilliseconds: 60_000 });
      const collector = new Collector(bus.subscribe({ signal: controller.signal }));
      const appended = await store.appendEvent(text(null, null, 'one'));
      await collector.waitForSequence(appended.sequence);
      expect(counted.listeners).toBe(1);
      // The subscriber is now waiting for the next event (or the poll, in a minute).
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers.pending).toBe(1);
      controller.abort();
      expect(await collector.done).toBe('ended');
      expect(counted.listeners).toBe(0);
      expect(timers.pending).toBe(0);
    });

    it('ends at once when the consumer breaks out of the loop or calls return() while waiting', async () => {
      const counted = countingStore();
      const timers = new CountedTimers();
      await store.appendEvent(text(null, null, 'one'));
      const bus = new EventBus(counted, { startTimer: timers.start, pollIntervalMilliseconds: 60_000 });
      for await (const event of bus.subscribe()) {
        expect(event.sequence).toBe(1);
        break;
      }
      expect(counted.listeners).toBe(0);

      const stream = bus.subscribe({ afterSequence: 1 });
      const pending = stream.next();
      // The read has happened and the generator waits (for a minute, by its poll interval).
      await new Promise((resolve) => setImmediate(resolve));
      expect(counted.listeners).toBe(1);
      expect(timers.pending).toBe(1);
      await stream.return?.();
      expect(await pending).toEqual({ value: undefined, done: true });
      expect(counted.listeners).toBe(0);
      expect(timers.pending).toBe(0);

      // Disposed of before it ever started: it never held anything.
      {
        await using _unused = bus.subscribe();
      }
      expect(counted.listeners).toBe(0);
    });

    it('delivers nothing for a signal aborted before it starts', async () => {
      await store.appendEvent(text(null, null, 'one'));
      const collector = new Collector(new EventBus(store).subscribe({ signal: AbortSignal.abort() }));
      expect(await collector.done).toBe('ended');
      expect(collector.events).toEqual([]);
    });

    it('ends with the store error when reading the store fails, releasing its listener', async () => {
      const counted = countingStore();
      let reads = 0;
      counted.listEvents = async (filter) => {
        reads += 1;
        if (reads === 2) throw new Error('disk on fire');
        return store.listEvents(filter);
      };
      const collector = new Collector(new EventBus(counted).subscribe());
      await store.appendEvent(text(null, null, 'one'));
      expect(await collector.done).toEqual(new Error('disk on fire'));
      expect(counted.listeners).toBe(0);
    });
  });
});
