import type { LokiEvent } from '../events/index.ts';
import { roundTo } from './timing.ts';

/** Spread of a per-task figure, in milliseconds. */
export interface Distribution {
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export interface TaskTiming {
  taskId: string;
  claimToMergedMilliseconds: number;
  modelCalls: number;
  modelMilliseconds: number;
  verificationMilliseconds: number;
  overheadMilliseconds: number;
}

export interface OrchestrationTimings {
  tasksMerged: number;
  /** First task.claimed → last merge.completed. */
  developmentWallMilliseconds: number;
  /** Every phase of the run from its own phase events (entered → exited). */
  phasesMilliseconds: Record<string, number>;
  perTask: {
    claimToMerged: Distribution;
    model: Distribution;
    verification: Distribution;
    overhead: Distribution;
    /** Parts of the overhead, from the task's own events (see `notes`). */
    overheadParts: {
      claimToAgentStarted: Distribution;
      agentOutsideModel: Distribution;
      verificationToMerged: Distribution;
    };
  };
  /** Time between consecutive merge.completed events: the merge queue's pace (it merges one at a time). */
  mergeInterval: Distribution;
}

/**
 * Per-task figures from a run's events. Model time = the task's model calls (usage.recorded) ×
 * the scripted latency. Verification = the task's verification.ran durations, counted twice: the
 * merge queue runs the same commands again on the rebased result with the same runner and emits
 * no event for it, so its time is taken to equal the worktree run's.
 */
export function analyzeRunEvents(
  events: readonly LokiEvent[],
  latencyMilliseconds: number,
): OrchestrationTimings {
  const byTask = groupEventsByTask(events);
  const tasks: TaskTiming[] = [];
  const parts = {
    claimToAgentStarted: [] as number[],
    agentOutsideModel: [] as number[],
    verificationToMerged: [] as number[],
  };
  for (const [taskId, taskEvents] of byTask) {
    const claimed = taskEvents.findLast((event) => event.type === 'task.claimed');
    const merged = taskEvents.find((event) => event.type === 'merge.completed');
    if (claimed === undefined || merged === undefined) continue;
    const modelCalls = taskEvents.filter((event) => event.type === 'usage.recorded').length;
    const verificationMilliseconds =
      2 *
      taskEvents.reduce(
        (sum, event) => sum + (event.type === 'verification.ran' ? event.data.durationMilliseconds : 0),
        0,
      );
    const claimToMerged = merged.createdAt - claimed.createdAt;
    const modelMilliseconds = modelCalls * latencyMilliseconds;
    tasks.push({
      taskId,
      claimToMergedMilliseconds: claimToMerged,
      modelCalls,
      modelMilliseconds,
      verificationMilliseconds,
      overheadMilliseconds: claimToMerged - modelMilliseconds - verificationMilliseconds,
    });
    // One agent.started per attempt: the one after the last claim.
    const started = taskEvents.findLast((event) => event.type === 'agent.started');
    const finished = taskEvents.findLast((event) => event.type === 'agent.finished');
    const verified = taskEvents.findLast((event) => event.type === 'verification.ran');
    if (started !== undefined && finished !== undefined && verified !== undefined) {
      parts.claimToAgentStarted.push(started.createdAt - claimed.createdAt);
      parts.agentOutsideModel.push(finished.createdAt - started.createdAt - modelMilliseconds);
      // The worktree verification's own time is in verification.ran's timestamp; only the re-run is taken off here.
      parts.verificationToMerged.push(merged.createdAt - verified.createdAt - verificationMilliseconds / 2);
    }
  }
  const claims = events.filter((event) => event.type === 'task.claimed').map((event) => event.createdAt);
  const merges = events
    .filter((event) => event.type === 'merge.completed')
    .map((event) => event.createdAt)
    .sort((left, right) => left - right);
  const firstClaim = Math.min(...claims);
  const lastMerge = Math.max(...merges);
  return {
    tasksMerged: tasks.length,
    developmentWallMilliseconds: lastMerge - firstClaim,
    phasesMilliseconds: phaseDurations(events),
    perTask: {
      claimToMerged: distribution(tasks.map((task) => task.claimToMergedMilliseconds)),
      model: distribution(tasks.map((task) => task.modelMilliseconds)),
      verification: distribution(tasks.map((task) => task.verificationMilliseconds)),
      overhead: distribution(tasks.map((task) => task.overheadMilliseconds)),
      overheadParts: {
        claimToAgentStarted: distribution(parts.claimToAgentStarted),
        agentOutsideModel: distribution(parts.agentOutsideModel),
        verificationToMerged: distribution(parts.verificationToMerged),
      },
    },
    mergeInterval: distribution(merges.slice(1).map((at, index) => at - (merges[index] ?? at))),
  };
}

function phaseDurations(events: readonly LokiEvent[]): Record<string, number> {
  const entered = new Map<string, number>();
  const durations: Record<string, number> = {};
  for (const event of events) {
    if (event.type === 'phase.entered') entered.set(event.data.phase, event.createdAt);
    if (event.type === 'phase.exited') {
      const start = entered.get(event.data.phase);
      if (start !== undefined) durations[event.data.phase] = event.createdAt - start;
    }
  }
  return durations;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { mean: Number.NaN, p50: Number.NaN, p95: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((left, right) => left - right);
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
  return {
    mean: roundTo(sorted.reduce((sum, value) => sum + value, 0) / sorted.length, 1),
    p50: roundTo(at(0.5), 1),
    p95: roundTo(at(0.95), 1),
    max: roundTo(sorted.at(-1) ?? Number.NaN, 1),
  };
}

/** The events of each task, in the order given; events of no task are left out. */
export function groupEventsByTask(events: readonly LokiEvent[]): Map<string, LokiEvent[]> {
  const byTask = new Map<string, LokiEvent[]>();
  for (const event of events) {
    if (event.taskId === null) continue;
    const list = byTask.get(event.taskId) ?? [];
    list.push(event);
    byTask.set(event.taskId, list);
  }
  return byTask;
}
