import { isLokiError, LokiError } from '../../errors/index.ts';
import { queueWaitOf } from '../../resilience/index.ts';
import { probeWorkspaceFault, toWorkspaceFault } from '../../workspace/index.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import { describeError, isLeaseLost, type TaskClaim } from './task-claim.ts';

/** Provider failures no task can get past (a bad request or a broken script is the task's own failure). */
const RUN_STOPPING_FAILURES: ReadonlySet<string> = new Set([
  'PROVIDER_AUTH',
  'PROVIDER_QUOTA',
  'PROVIDER_MODEL_UNKNOWN',
]);

/**
 * How a claim ends when one of its steps threw, in this order: cancelled (the store already says
 * so); the lease lost (the task is another worker's now: neither released nor failed by this one);
 * the run stopping (released); a failure every task would hit (released, then thrown: the run
 * stops); the budget cap (released); a workspace fault (released if it can be, then thrown); a wait
 * for a rate limit, an open breaker or the shared git remote (released with a not-before time);
 * anything else fails it.
 */
export async function settleFailure(claim: TaskClaim, error: unknown): Promise<TaskWorkOutcome> {
  if (claim.isCancelled) return 'withdrawn';
  const lostLease = claim.lostLease ?? (isLeaseLost(error) ? { reason: error } : null);
  if (lostLease !== null) return abandonTask(claim, lostLease.reason);
  if (claim.runSignal.aborted) return releaseTask(claim, 'stopped');
  if (isLokiError(error) && RUN_STOPPING_FAILURES.has(error.code)) {
    // A bad key, no quota, an unknown model: not this task's fault, and every other task would hit it too.
    await releaseTask(claim, `provider error: ${error.message}`);
    throw error;
  }
  if (isLokiError(error) && error.code === 'BUDGET_EXHAUSTED') {
    await releaseTask(claim, 'budget cap reached');
    return 'budget';
  }
  // A full or read-only disk, a corrupt store: the run stops, and the task is not to blame.
  const paths = claim.context.workspace.paths;
  const workspaceFault = toWorkspaceFault(error, paths) ?? probeWorkspaceFault(paths);
  if (workspaceFault !== null) {
    // The fault is the error to report; putting the task back may fail because of that same fault.
    await releaseTask(claim, workspaceFault.message).catch(() => 'released');
    throw workspaceFault;
  }
  // An open breaker, a long rate limit, a git remote failing past its retries: the task waits in
  // the queue, holding no worker, no attempt counted.
  const wait = queueWaitOf(error);
  if (wait !== null) return releaseTask(claim, wait.reason, wait.notBefore);
  return failTask(claim, describeError(error));
}

/**
 * Puts the task back in the queue without counting a failure: claimable at once, or from
 * `notBefore`. A failure to do so is thrown (the run stops with it) unless the lease was lost, in
 * which case the task is no longer this worker's to release.
 */
export async function releaseTask(
  claim: TaskClaim,
  reason: string,
  notBefore?: number,
): Promise<'released' | 'abandoned'> {
  await claim.settled();
  // Stopped because a heartbeat found the lease lost: the task is another worker's now.
  const signal = claim.context.signal;
  if (signal.aborted && isLeaseLost(signal.reason)) return abandonTask(claim, signal.reason);
  try {
    await claim.context.workspace.queue.release(claim.task.id, claim.workerId, reason, notBefore);
  } catch (error) {
    if (isLeaseLost(error)) return abandonTask(claim, error);
    throw new LokiError(
      `task ${claim.task.id} could not be put back in the queue (${reason}): ${describeError(error)}`,
      { code: 'TASK_RELEASE_UNRECORDED', category: 'internal', cause: error },
    );
  }
  return 'released';
}

/** Counts a failure (backoff, or the dead letter after the last attempt); a failure to record it is thrown. */
async function failTask(claim: TaskClaim, message: string): Promise<TaskWorkOutcome> {
  await claim.settled();
  try {
    await claim.context.workspace.queue.fail(claim.task.id, claim.workerId, message);
  } catch (failError) {
    if (isLeaseLost(failError)) return abandonTask(claim, failError);
    throw new LokiError(
      `task ${claim.task.id} failed (${message}) and could not be recorded as failed: ${describeError(failError)}`,
      { code: 'TASK_FAIL_UNRECORDED', category: 'internal', cause: failError },
    );
  }
  return 'failed';
}

/** This worker lost the task's lease: it drops its work (nothing of it merges) and the run is told why. */
function abandonTask(claim: TaskClaim, leaseLost: unknown): 'abandoned' {
  claim.context.emit({
    type: 'task.abandoned',
    runId: claim.context.runId,
    taskId: claim.task.id,
    data: {
      workerId: claim.workerId,
      reason: `lost its lease (${describeError(leaseLost)}); this worker drops it`,
    },
  });
  return 'abandoned';
}
