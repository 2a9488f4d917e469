import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import { type RunControlRequest, runNotRunning, type RunStatus } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';
import { findLiveRun, isStillHeldBy, type RunLiveness } from './find-live-run.ts';
import { noRunYet, runBetweenSessions, runProcessGone, runStopTimeout } from './run-control-errors.ts';

export interface RunControlOptions {
  workspace: Workspace;
  /** Recorded with the request: `cli`, `dashboard`… */
  requestedBy: RunControlRequest['requestedBy'];
}

export interface PauseOrContinueResult {
  runId: string;
  action: 'pause' | 'continue';
  /** False when the run already was so: nothing was recorded. */
  isChanged: boolean;
  /** Tasks whose agents are at work now; a pause lets them finish. */
  tasksInProgress: number;
}

export interface StopRunOptions extends RunControlOptions {
  clock: Clock;
  /** How long to wait for the run's process to let go of the workspace. */
  timeoutMilliseconds: number;
  /** Told once the request is recorded, before the wait: the caller may say so. */
  onRequested?: (request: { runId: string; pid: number; isChanged: boolean }) => void;
  pollMilliseconds?: number;
}

export type StopRunResult =
  /** The run's process let go of the workspace; `status` is what it recorded (`running`: it died first). */
  | { stopped: true; runId: string; pid: number; status: RunStatus }
  /** No run was live: none yet, it had ended, or its process was already gone. */
  | {
      stopped: false;
      runId: string | null;
      status: RunStatus | null;
      reason: 'no_run' | 'ended' | 'process_gone';
    };

/**
 * Pauses the workspace's live run: it claims no new task (within a second) while the agents at work
 * finish theirs, until `continueRun`. Pausing a paused run changes nothing.
 */
export function pauseRun(options: RunControlOptions): Promise<PauseOrContinueResult> {
  return steerLiveRun(options, 'pause');
}

/** Lets a paused live run claim tasks again. Continuing a run that is not paused changes nothing. */
export function continueRun(options: RunControlOptions): Promise<PauseOrContinueResult> {
  return steerLiveRun(options, 'continue');
}

async function steerLiveRun(
  options: RunControlOptions,
  action: 'pause' | 'continue',
): Promise<PauseOrContinueResult> {
  const { store } = options.workspace;
  const found = await findLiveRun(options.workspace);
  if (found.kind === 'none') throw noRunYet(action);
  if (found.kind === 'gone') throw runProcessGone(found.run.id, action);
  if (found.kind === 'ended') throw runNotRunning(found.run.id, found.run.status, action);
  if (found.run?.status !== 'running') throw runBetweenSessions(found.runId, action);
  const { run, isChanged } = await store.requestRunControl(found.runId, {
    action,
    requestedBy: options.requestedBy,
  });
  const counts = await store.countTasks();
  return { runId: run.id, action, isChanged, tasksInProgress: counts.in_progress };
}

/**
 * Stops the workspace's live run gracefully, from any process: the request is recorded in the store
 * and the run acts on it within a second, exactly as on a first Ctrl-C in its terminal (agents are
 * signalled, their tasks go back to the queue). Then this waits until the run's process lets go of
 * the workspace (its run lock), so that `loki resume` can follow at once.
 *
 * No signal is sent to the run's pid, not even when the wait times out: a run that has the request
 * is already stopping, and a second interrupt would force it out half-way (that is what a second
 * Ctrl-C means), so forcing is left to the user, whom the timeout error tells how. A run whose row
 * says it is not running while its process holds the lock is starting (a resume) or ending: the
 * request is tried again until it is taken or the process ends.
 */
export async function stopRun(options: StopRunOptions): Promise<StopRunResult> {
  const { workspace, clock } = options;
  const found = await findLiveRun(workspace);
  if (found.kind !== 'live') return notLive(found);
  const { runId, owner } = found;
  const deadline = clock.now() + options.timeoutMilliseconds;
  let isRequested = false;
  for (;;) {
    if (!isRequested) isRequested = await requestStop(options, runId, owner.pid);
    if (!isStillHeldBy(workspace, owner)) break;
    if (clock.now() >= deadline) {
      throw runStopTimeout(runId, owner.pid, Math.round(options.timeoutMilliseconds / 1000), isRequested);
    }
    await delay(options.pollMilliseconds ?? 100);
  }
  // A new run that ended before it was recorded has no row: it never ran.
  const ended = await workspace.store.getRun(runId);
  return { stopped: true, runId, pid: owner.pid, status: ended?.status ?? 'stopped' };
}

/** Records the stop; false while the run is not recorded or not running yet (or any more). */
async function requestStop(options: StopRunOptions, runId: string, pid: number): Promise<boolean> {
  try {
    const { isChanged } = await options.workspace.store.requestRunControl(runId, {
      action: 'stop',
      requestedBy: options.requestedBy,
    });
    options.onRequested?.({ runId, pid, isChanged });
    return true;
  } catch (error) {
    if (isLokiError(error) && (error.code === 'RUN_NOT_RUNNING' || error.code === 'RUN_NOT_FOUND')) {
      return false;
    }
    throw error;
  }
}

function notLive(found: Exclude<RunLiveness, { kind: 'live' }>): StopRunResult {
  if (found.kind === 'none') return { stopped: false, runId: null, status: null, reason: 'no_run' };
  return {
    stopped: false,
    runId: found.run.id,
    status: found.run.status,
    reason: found.kind === 'gone' ? 'process_gone' : 'ended',
  };
}
