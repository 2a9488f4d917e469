import type { Workspace } from '../../workspace/index.ts';

/** One point of the run's figures over time: totals up to `at` (epoch milliseconds). */
export interface MetricsPoint {
  at: number;
  spentUsd: number;
  tokens: number;
  tasksDone: number;
  merges: number;
}

/** A phase of the run as its events tell it; `exitedAt` null while it goes on. */
export interface PhaseSpan {
  phase: string;
  enteredAt: number;
  exitedAt: number | null;
  outcome: string | null;
}

export interface Metrics {
  points: MetricsPoint[];
  phases: PhaseSpan[];
  /** The latest run's cap, null without one. */
  budgetUsd: number | null;
  spentUsd: number;
}

/** At most this many points are sent: a chart a few hundred pixels wide shows no more. */
const MAXIMUM_POINTS = 240;

/**
 * Spend, tokens, tasks done and merges over the workspace's history, as running totals from the
 * events that record them (usage.recorded, task.completed, merge.completed).
 */
export async function readMetrics(workspace: Workspace): Promise<Metrics> {
  const events = await workspace.store.listEvents({
    types: ['usage.recorded', 'task.completed', 'merge.completed'],
  });
  const phaseEvents = await workspace.store.listEvents({ types: ['phase.entered', 'phase.exited'] });
  const phases: PhaseSpan[] = [];
  for (const event of phaseEvents) {
    if (event.type === 'phase.entered') {
      phases.push({ phase: event.data.phase, enteredAt: event.createdAt, exitedAt: null, outcome: null });
    } else if (event.type === 'phase.exited') {
      const open = phases.findLast((span) => span.phase === event.data.phase && span.exitedAt === null);
      if (open !== undefined) Object.assign(open, { exitedAt: event.createdAt, outcome: event.data.outcome });
    }
  }
  const latestRun = await workspace.store.getLatestRun();
  const budgetUsd = latestRun?.settings?.budgetUsd ?? null;
  const totals: MetricsPoint = { at: 0, spentUsd: 0, tokens: 0, tasksDone: 0, merges: 0 };
  const points: MetricsPoint[] = [];
  for (const event of events) {
    if (event.type === 'usage.recorded') {
      totals.spentUsd += event.data.costUsd;
      totals.tokens += event.data.inputTokens + event.data.outputTokens;
    } else if (event.type === 'task.completed') totals.tasksDone += 1;
    else totals.merges += 1;
    points.push({ ...totals, at: event.createdAt });
  }
  const summary = { phases, budgetUsd, spentUsd: totals.spentUsd };
  if (points.length <= MAXIMUM_POINTS) return { points, ...summary };
  // Evenly thinned, the last point always kept: the totals shown are the real ones.
  const step = points.length / MAXIMUM_POINTS;
  const thinned = Array.from({ length: MAXIMUM_POINTS - 1 }, (_, index) => points[Math.floor(index * step)]);
  return { points: [...thinned.filter((point) => point !== undefined), ...points.slice(-1)], ...summary };
}
