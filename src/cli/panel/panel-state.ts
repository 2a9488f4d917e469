import type { RunProgress } from '../../app/index.ts';
import type { LokiEvent } from '../../events/index.ts';

export interface PanelAgent {
  worker: string;
  taskId: string;
  title: string;
  /** When the worker claimed the task (epoch ms). */
  since: number;
}

/** Everything the panel shows, at one moment. */
export interface PanelView {
  runId: string | null;
  phase: string;
  /** running, paused or stopping. */
  control: 'running' | 'paused' | 'stopping';
  agents: PanelAgent[];
  parallel: number | null;
  queue: RunProgress['queue'] | null;
  spentUsd: number;
  capUsd: number | null;
  startedAt: number;
}

/** Events that end a worker's hold on a task. */
const RELEASING_EVENTS = new Set<string>([
  'task.completed',
  'task.failed',
  'task.dead_lettered',
  'task.lease_expired',
  'task.cancelled',
  'task.released',
  'task.deferred',
]);

/**
 * The panel's figures, folded from the run's events as they come (phase, agents, spend, pause and
 * stop) and corrected by each snapshot the follower takes (queue counts, the agents at work).
 */
export class PanelState {
  readonly #titles = new Map<string, string>();
  readonly #agents = new Map<string, PanelAgent>();
  #runId: string | null = null;
  #phase = 'starting';
  #control: PanelView['control'] = 'running';
  #parallel: number | null = null;
  #queue: RunProgress['queue'] | null = null;
  #spentUsd = 0;
  #capUsd: number | null = null;
  #lastSequence = 0;
  readonly #startedAt: number;

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  start(start: { runId: string; parallel: number; capUsd: number | null; spentUsd: number }): void {
    this.#runId = start.runId;
    this.#parallel = start.parallel;
    this.#capUsd = start.capUsd;
    this.#spentUsd = start.spentUsd;
  }

  apply(event: LokiEvent): void {
    this.#lastSequence = Math.max(this.#lastSequence, event.sequence);
    const taskId = event.taskId;
    switch (event.type) {
      case 'task.enqueued':
        if (taskId !== null) this.#titles.set(taskId, event.data.title);
        return;
      case 'task.claimed':
        if (taskId !== null)
          this.#agents.set(taskId, {
            worker: event.data.workerId,
            taskId,
            title: this.#titles.get(taskId) ?? '',
            since: event.createdAt,
          });
        return;
      case 'task.abandoned':
        // Another worker may hold the task by now: only the one that gave it up lets go.
        if (taskId !== null && this.#agents.get(taskId)?.worker === event.data.workerId)
          this.#agents.delete(taskId);
        return;
      case 'phase.entered':
        this.#phase = event.data.phase;
        return;
      case 'usage.recorded':
        this.#spentUsd += event.data.costUsd;
        return;
      case 'run.paused':
        this.#control = 'paused';
        return;
      case 'run.continued':
        this.#control = 'running';
        return;
      case 'run.stop_requested':
        this.#control = 'stopping';
        return;
      default:
        if (taskId !== null && RELEASING_EVENTS.has(event.type)) this.#agents.delete(taskId);
    }
  }

  /**
   * A snapshot is newer than the events folded so far, or older (it was taken while they were
   * delivered): the counts are taken either way (they catch up within a second), the agents only
   * from a snapshot that has seen every event folded.
   */
  applyProgress(progress: RunProgress): void {
    this.#phase = progress.phase;
    this.#queue = progress.queue;
    for (const agent of progress.agents) this.#titles.set(agent.taskId, agent.title);
    if (progress.lastEventSequence < this.#lastSequence) return;
    this.#agents.clear();
    for (const agent of progress.agents) this.#agents.set(agent.taskId, { ...agent });
  }

  view(): PanelView {
    return {
      runId: this.#runId,
      phase: this.#phase,
      control: this.#control,
      agents: [...this.#agents.values()].sort(
        (left, right) => left.since - right.since || left.taskId.localeCompare(right.taskId),
      ),
      parallel: this.#parallel,
      queue: this.#queue,
      spentUsd: this.#spentUsd,
      capUsd: this.#capUsd,
      startedAt: this.#startedAt,
    };
  }
}
