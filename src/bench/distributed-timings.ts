import type { LokiEvent } from '../events/index.ts';
import { median, roundTo } from './timing.ts';
import { groupEventsByTask } from './orchestration-timings.ts';

/**
 * Where a task's wall time went on a distributed run, each phase from the task's own events (its
 * last claim), as the median over the merged tasks, in milliseconds.
 */
export interface DistributedPhases {
  /** task.claimed → agent.started: the sync with the remote (ls-remote, fetch) and the worktree. */
  setUp: number;
  /** agent.started → agent.finished: the model calls (scripted latency) and the agent's tools. */
  agent: number;
  /** agent.finished → the last verification.ran: the sandboxed verification and the checkpoint. */
  verification: number;
  /** The last verification.ran → merge.requested: review, the push of loki/<task-id>. */
  handOff: number;
  /** merge.requested → merge.decided: waiting for the coordinator, its rebase, gates and push of main. */
  decision: number;
  /** merge.decided → task.completed: the worker reads the decision and completes the task. */
  completion: number;
  /** task.claimed → task.completed. */
  total: number;
}

export interface DistributedTimings {
  tasks: number;
  /** Median per phase (see DistributedPhases). */
  medianMilliseconds: DistributedPhases;
  /**
   * Per worker process: how long, after one of its agents finished, the next claim of that process
   * came (median over the slots freed while tasks were still unclaimed). A slot the process did not
   * refill at once is idle capacity.
   */
  medianRefillMilliseconds: number | null;
  /** The merge coordinator's load, from the requests' merge.requested → merge.decided windows. */
  coordinator: {
    /** Share of the development window during which at least one request waited or was merged. */
    busyShare: number;
    /** Most requests undecided at one moment. */
    mostUndecided: number;
    /** Median time between consecutive merge.decided events. */
    medianDecisionIntervalMilliseconds: number | null;
  };
}

/** Per-task phases and the idle gaps of a distributed run, from its event log. */
export function analyzeDistributedEvents(events: readonly LokiEvent[]): DistributedTimings {
  const byTask = groupEventsByTask(events);
  const phases: DistributedPhases[] = [];
  const slotFrees: { process: string; at: number }[] = [];
  const windows: [number, number][] = [];
  for (const taskEvents of byTask.values()) {
    const claimed = taskEvents.findLast((event) => event.type === 'task.claimed');
    const completed = taskEvents.findLast((event) => event.type === 'task.completed');
    if (claimed?.type !== 'task.claimed' || completed === undefined) continue;
    const after = taskEvents.filter((event) => event.sequence >= claimed.sequence);
    const steps = ['agent.started', 'agent.finished', 'verification.ran', 'merge.requested', 'merge.decided'];
    const stepTimes = steps.map((type) => after.findLast((event) => event.type === type)?.createdAt);
    if (!stepTimes.every((value) => value !== undefined)) continue;
    const [start = 0, finish = 0, verify = 0, request = 0, decide = 0] = stepTimes;
    const claim = claimed.createdAt;
    const complete = completed.createdAt;
    phases.push({
      setUp: start - claim,
      agent: finish - start,
      verification: verify - finish,
      handOff: request - verify,
      decision: decide - request,
      completion: complete - decide,
      total: complete - claim,
    });
    slotFrees.push({ process: processOf(claimed.data.workerId), at: verify });
    windows.push([request, decide]);
  }
  return {
    tasks: phases.length,
    medianMilliseconds: medianPhases(phases),
    medianRefillMilliseconds: refillGap(events, slotFrees),
    coordinator: coordinatorLoad(events, windows),
  };
}

function medianPhases(phases: readonly DistributedPhases[]): DistributedPhases {
  const of = (key: keyof DistributedPhases) =>
    phases.length === 0 ? Number.NaN : roundTo(median(phases.map((phase) => phase[key])), 0);
  return {
    setUp: of('setUp'),
    agent: of('agent'),
    verification: of('verification'),
    handOff: of('handOff'),
    decision: of('decision'),
    completion: of('completion'),
    total: of('total'),
  };
}

/** For each freed slot while a claim was still to come: the wait until its process claimed again. */
function refillGap(
  events: readonly LokiEvent[],
  frees: readonly { process: string; at: number }[],
): number | null {
  const claims = events.flatMap((event) =>
    event.type === 'task.claimed' ? [{ process: processOf(event.data.workerId), at: event.createdAt }] : [],
  );
  const lastClaim = Math.max(...claims.map((claim) => claim.at));
  const gaps: number[] = [];
  for (const free of frees) {
    if (free.at >= lastClaim) continue;
    const next = claims
      .filter((claim) => claim.process === free.process && claim.at >= free.at)
      .reduce((soonest, claim) => Math.min(soonest, claim.at), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) gaps.push(next - free.at);
  }
  return gaps.length === 0 ? null : roundTo(median(gaps), 0);
}

function coordinatorLoad(
  events: readonly LokiEvent[],
  windows: readonly [number, number][],
): DistributedTimings['coordinator'] {
  const claims = events.filter((event) => event.type === 'task.claimed').map((event) => event.createdAt);
  const completions = events
    .filter((event) => event.type === 'task.completed')
    .map((event) => event.createdAt);
  const development = Math.max(...completions) - Math.min(...claims);
  const sorted = [...windows].sort((left, right) => left[0] - right[0]);
  let busy = 0;
  let coveredUntil = Number.NEGATIVE_INFINITY;
  for (const [from, to] of sorted) {
    busy += Math.max(0, to - Math.max(from, coveredUntil));
    coveredUntil = Math.max(coveredUntil, to);
  }
  let mostUndecided = 0;
  for (const [from] of sorted) {
    const open = sorted.filter(([start, end]) => start <= from && end > from).length;
    mostUndecided = Math.max(mostUndecided, open);
  }
  const decisions = events
    .filter((event) => event.type === 'merge.decided')
    .map((event) => event.createdAt)
    .sort((left, right) => left - right);
  const intervals = decisions.slice(1).map((at, index) => at - (decisions[index] ?? at));
  return {
    busyShare: development > 0 ? roundTo(busy / development, 2) : Number.NaN,
    mostUndecided,
    medianDecisionIntervalMilliseconds: intervals.length === 0 ? null : roundTo(median(intervals), 0),
  };
}

/** `owner:w3` → `owner`: the process a scheduler's task worker id belongs to. */
function processOf(workerId: string): string {
  const colon = workerId.lastIndexOf(':');
  return colon === -1 ? workerId : workerId.slice(0, colon);
}
