import type { StoreSnapshot } from '../store/index.ts';
import { queueCounts, type StatusReport } from '../workspace/index.ts';

/** One agent at work: the worker and the task it holds. */
export interface RunProgressAgent {
  worker: string;
  taskId: string;
  type: string;
  /** Model-written (the planner names tasks): sanitise before it reaches a terminal. */
  title: string;
  /** When the worker claimed the task (epoch ms). */
  since: number;
}

/**
 * Where a live run stands, as of one consistent snapshot of the store: what the terminal panel
 * shows between events. The figures are STATUS.txt's (the same snapshot writes it).
 */
export interface RunProgress {
  phase: string;
  queue: StatusReport['queue'];
  agents: RunProgressAgent[];
  lastEventSequence: number;
}

export function runProgressOf(snapshot: StoreSnapshot): RunProgress {
  const agents = snapshot.tasks
    .filter((task) => task.status === 'in_progress')
    .map((task): RunProgressAgent => ({
      worker: task.claimedBy ?? 'unknown',
      taskId: task.id,
      type: task.type,
      title: task.title,
      since: task.claimedAt ?? snapshot.lastEventAt ?? 0,
    }))
    .sort((left, right) => left.since - right.since || left.taskId.localeCompare(right.taskId));
  return {
    phase: snapshot.latestRun?.phase ?? 'idle',
    queue: queueCounts(snapshot.counts),
    agents,
    lastEventSequence: snapshot.lastEventSequence,
  };
}
