import { describe, expect, it } from 'vitest';
import type { LokiEvent } from '../../src/events/index.ts';
import { lowestWorkerLimit, mostTasksHeldAtOnce } from './concurrency.ts';

/** A trail of events: [type, taskId, data]. */
function trail(entries: [string, string | null, Record<string, unknown>?][]): LokiEvent[] {
  return entries.map(
    ([type, taskId, data], index) =>
      ({
        type,
        taskId,
        runId: 'run-1',
        data: data ?? {},
        sequence: index + 1,
        createdAt: index,
      }) as unknown as LokiEvent,
  );
}

describe('mostTasksHeldAtOnce', () => {
  it('ends a hold on every way a task leaves its worker, a deferral to a resolution task included', () => {
    const events = trail([
      ['task.claimed', 'a'],
      ['task.claimed', 'b'],
      // b conflicted: it waits for b-fix and no worker holds it any more.
      ['task.deferred', 'b'],
      ['task.completed', 'a'],
      ['task.claimed', 'b-fix'],
      ['task.claimed', 'c'],
      ['task.released', 'c'],
      ['task.claimed', 'd'],
    ]);
    // Counting only completed, failed and released as the end of a hold would say 3 here.
    expect(mostTasksHeldAtOnce(events)).toBe(2);
  });
});

describe('lowestWorkerLimit', () => {
  it('is the requested number unless the machine lowered it while tasks were being claimed', () => {
    expect(lowestWorkerLimit(trail([['task.claimed', 'a']]), 4)).toBe(4);
    const lowered = trail([
      ['workers.limited', null, { requested: 4, limit: 3 }],
      ['task.claimed', 'a'],
      ['workers.limited', null, { requested: 4, limit: 2 }],
      ['task.claimed', 'b'],
      ['workers.limited', null, { requested: 4, limit: 1 }],
    ]);
    // The last change came after the last claim: it limited nothing.
    expect(lowestWorkerLimit(lowered, 4)).toBe(2);
  });
});
