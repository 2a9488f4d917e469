import type { LokiEvent } from '../../events/index.ts';
import type { Workspace } from '../../workspace/index.ts';
import { Serial } from './serial.ts';

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

const METRICS_EVENT_TYPES = [
  'usage.recorded',
  'task.completed',
  'merge.completed',
  'phase.entered',
  'phase.exited',
] as const;

/**
 * Spend, tokens, tasks done and merges over the workspace's history, as running totals from the
 * events that record them (usage.recorded, task.completed, merge.completed), and the phases.
 *
 * Kept by the server and folded forward: each read adds only the events after the last one it
 * folded, so a page that reloads its figures all through a run costs the new events, not the whole
 * log each time. That is exact because the log only grows and sequence numbers are visible in
 * commit order (src/events/event-bus.ts): once `sequence` is read, no event below it can appear later.
 */
export class MetricsFold {
  #sequence = 0;
  readonly #totals: MetricsPoint = { at: 0, spentUsd: 0, tokens: 0, tasksDone: 0, merges: 0 };
  readonly #points: MetricsPoint[] = [];
  readonly #phases: PhaseSpan[] = [];
  /** Two pages reloading at once must not fold the same events twice. */
  readonly #serial = new Serial();

  read(workspace: Workspace): Promise<Metrics> {
    return this.#serial.run(async () => {
      const events = await workspace.store.listEvents({
        types: METRICS_EVENT_TYPES,
        afterSequence: this.#sequence,
      });
      for (const event of events) this.#fold(event);
      const latestRun = await workspace.store.getLatestRun();
      return {
        points: thinned(this.#points),
        // Copies: an open span is completed in place by a later fold.
        phases: this.#phases.map((span) => ({ ...span })),
        budgetUsd: latestRun?.settings?.budgetUsd ?? null,
        spentUsd: this.#totals.spentUsd,
      };
    });
  }

  #fold(event: LokiEvent): void {
    this.#sequence = event.sequence;
    if (event.type === 'phase.entered') {
      this.#phases.push({
        phase: event.data.phase,
        enteredAt: event.createdAt,
        exitedAt: null,
        outcome: null,
      });
      return;
    }
    if (event.type === 'phase.exited') {
      const open = this.#phases.findLast((span) => span.phase === event.data.phase && span.exitedAt === null);
      if (open !== undefined) Object.assign(open, { exitedAt: event.createdAt, outcome: event.data.outcome });
      return;
    }
    const totals = this.#totals;
    if (event.type === 'usage.recorded') {
      totals.spentUsd += event.data.costUsd;
      totals.tokens += event.data.inputTokens + event.data.outputTokens;
    } else if (event.type === 'task.completed') totals.tasksDone += 1;
    else if (event.type === 'merge.completed') totals.merges += 1;
    else return;
    this.#points.push({ ...totals, at: event.createdAt });
  }
}

/** The metrics from the whole log at once (a fold from the first event). */
export function readMetrics(workspace: Workspace): Promise<Metrics> {
  return new MetricsFold().read(workspace);
}

/** Evenly thinned to MAXIMUM_POINTS, the last point always kept: the totals shown are the real ones. */
function thinned(points: readonly MetricsPoint[]): MetricsPoint[] {
  if (points.length <= MAXIMUM_POINTS) return [...points];
  const step = points.length / MAXIMUM_POINTS;
  const kept = Array.from({ length: MAXIMUM_POINTS - 1 }, (_, index) => points[Math.floor(index * step)]);
  return [...kept.filter((point) => point !== undefined), ...points.slice(-1)];
}
