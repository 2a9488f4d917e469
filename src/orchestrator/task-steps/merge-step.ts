import { assertWorktreeIntact, taskBranchName } from '../../git/index.ts';
import type { Task } from '../../store/index.ts';
import { RESOLVES_TRAILER, TASK_TRAILER } from '../merged-work.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import { deferToResolution } from './resolution-task.ts';
import type { TaskAttempt } from './task-attempt.ts';
import { filesOfCommit } from './worktree-step.ts';

/** Main already holds the task's work (merged by a run that died before recording it): done. */
export async function completeIfAlreadyMerged(attempt: TaskAttempt): Promise<TaskWorkOutcome | null> {
  const { claim } = attempt;
  const merged = claim.context.merged.get(claim.task.id);
  if (merged === undefined) return null;
  await claim.settled();
  await claim.context.workspace.queue.complete(claim.task.id, claim.workerId, {
    commit: merged.commit,
    mergedVia: merged.via,
    branch: taskBranchName(claim.task.id),
  });
  return 'merged';
}

/**
 * Merge: the merge queue rebases the branch on main, re-verifies the result and fast-forwards main.
 * A rejected merge (conflict or red re-verification) becomes a resolution task the task waits for.
 */
export async function mergeIntoMain(attempt: TaskAttempt): Promise<TaskWorkOutcome> {
  const { claim, payload } = attempt;
  const { task, context } = claim;
  const queue = context.workspace.queue;
  const worktree = claim.requireWorktree();
  // (Already called after verification when an agent ran; a reused checkpoint frees the slot here.)
  attempt.hooks.onAgentDone?.();
  // Nothing reaches main from a worktree whose .git an agent replaced (see DESIGN.md, Git safety).
  assertWorktreeIntact(worktree.path);
  if (claim.isCancelled) return 'withdrawn';
  // Checked (and extended) right before the merge: a task this worker no longer holds is not merged.
  await claim.settled();
  await claim.renewLease();
  const merge = await context.mergeQueue.merge({
    taskId: task.id,
    agentType: task.type,
    title: task.title,
    branch: worktree.branch,
    verifyCommands: payload.verifyCommands,
    workerId: claim.workerId,
    trailers: {
      [TASK_TRAILER]: task.id,
      ...(payload.resolves === undefined
        ? {}
        : { [RESOLVES_TRAILER]: [payload.resolves, ...payload.alsoResolves].join(', ') }),
    },
    // Asked again right before main moves: a task cancelled (or lost) meanwhile never lands.
    isWithdrawn: async () => !isHeldBy(await queue.get(task.id), claim.workerId),
    signal: context.signal,
  });
  await claim.settled();
  if (merge.outcome === 'withdrawn') return 'withdrawn';
  if (merge.outcome !== 'merged') return deferToResolution(attempt, merge);
  // The tasks claimed next start from this main: their prompt's file list is read now, not when they start.
  const newMain = context.mergeQueue.mainTip;
  if (newMain !== null) filesOfCommit(context.workspace.paths.root, newMain).catch(() => undefined);
  const resolved = payload.resolves === undefined ? [] : [payload.resolves];
  context.merged.record(task.id, merge.commit, [...resolved, ...payload.alsoResolves]);
  await queue.complete(task.id, claim.workerId, {
    commit: merge.commit,
    branch: worktree.branch,
    attempts: attempt.rounds,
    usage: attempt.usage,
  });
  context.emit({
    type: 'merge.completed',
    runId: context.runId,
    taskId: task.id,
    data: { commit: merge.commit, previousMain: merge.previousMain, resolves: payload.resolves ?? null },
  });
  return 'merged';
}

/** Whether `workerId` still holds the task: not cancelled, not reclaimed after a lost lease. */
function isHeldBy(task: Task, workerId: string): boolean {
  return task.status === 'in_progress' && task.claimedBy === workerId;
}
