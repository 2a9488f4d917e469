import type { EventType, LokiEvent } from '../../src/events/index.ts';

/**
 * Every way a worker's hold on a task ends: merged, failed, handed back (stop, budget), deferred to
 * a resolution task it now waits for, dead-lettered, expired or cancelled. A count that misses one
 * of them keeps counting a task nobody works on any more.
 */
const HOLD_ENDINGS: ReadonlySet<EventType> = new Set<EventType>([
  'task.completed',
  'task.failed',
  'task.released',
  'task.deferred',
  'task.dead_lettered',
  'task.lease_expired',
  'task.cancelled',
]);

/** The most tasks held by workers at the same moment (from a claim to whatever ended that hold). */
export function mostTasksHeldAtOnce(events: readonly LokiEvent[]): number {
  const held = new Set<string>();
  let most = 0;
  for (const event of events) {
    if (event.taskId === null) continue;
    if (event.type === 'task.claimed') {
      held.add(event.taskId);
      most = Math.max(most, held.size);
    } else if (HOLD_ENDINGS.has(event.type)) {
      held.delete(event.taskId);
    }
  }
  return most;
}

/**
 * The lowest worker limit in force from the first claim to the last: `requested` unless the
 * machine's load or memory lowered it (`workers.limited`). A run cannot be expected to work on more
 * tasks at once than that, however many are ready.
 */
export function lowestWorkerLimit(events: readonly LokiEvent[], requested: number): number {
  const lastClaim = events.findLastIndex((event) => event.type === 'task.claimed');
  let limit = requested;
  let lowest = Number.POSITIVE_INFINITY;
  let hasClaimed = false;
  for (const [index, event] of events.entries()) {
    if (index > lastClaim) break;
    if (event.type === 'workers.limited') limit = event.data.limit;
    if (event.type === 'task.claimed') hasClaimed = true;
    if (hasClaimed) lowest = Math.min(lowest, limit);
  }
  return lowest === Number.POSITIVE_INFINITY ? requested : lowest;
}
