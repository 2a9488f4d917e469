import { describe, expect, it } from 'vitest';
import type { LokiEvent } from '../events/index.ts';
import { EventsAppendedNotifier } from './events-appended-notifier.ts';

const EVENT: LokiEvent = {
  type: 'phase.entered',
  runId: null,
  taskId: null,
  data: { phase: 'qa' },
  sequence: 1,
  createdAt: 0,
};

describe('EventsAppendedNotifier', () => {
  it('tells every listener in order; a listener that throws is reported and the others still hear', () => {
    const reported: unknown[] = [];
    const notifier = new EventsAppendedNotifier({ reportListenerError: (error) => reported.push(error) });
    const heard: string[] = [];
    notifier.add(() => heard.push('first'));
    notifier.add(() => {
      throw new Error('listener bug');
    });
    notifier.add((events) => heard.push(`third:${events.length}`));
    expect(() => notifier.notify([EVENT])).not.toThrow();
    expect(heard).toEqual(['first', 'third:1']);
    expect(reported).toEqual([new Error('listener bug')]);
  });

  it('says nothing for a transaction that appended nothing', () => {
    const notifier = new EventsAppendedNotifier();
    let calls = 0;
    notifier.add(() => (calls += 1));
    notifier.notify([]);
    expect(calls).toBe(0);
  });

  it('counts one registration per add, each removed by its own function, once', () => {
    const notifier = new EventsAppendedNotifier();
    let calls = 0;
    const listener = () => (calls += 1);
    const removeFirst = notifier.add(listener);
    const removeSecond = notifier.add(listener);
    notifier.notify([EVENT]);
    expect(calls).toBe(2);
    removeFirst();
    removeFirst();
    expect(notifier.listenerCount).toBe(1);
    notifier.notify([EVENT]);
    expect(calls).toBe(3);
    removeSecond();
    expect(notifier.listenerCount).toBe(0);
  });

  it('by default raises what a listener threw as an uncaught error of its own, after the writer returned', async () => {
    const notifier = new EventsAppendedNotifier();
    notifier.add(() => {
      throw new Error('listener bug');
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      notifier.notify([EVENT]);
      expect(uncaught).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toHaveLength(1);
      expect((uncaught[0] as Error).cause).toEqual(new Error('listener bug'));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
