import { findAgentType } from '../../agents/index.ts';
import { taskBranchName } from '../../git/index.ts';
import type { Task } from '../../store/index.ts';
import type { MergeResult } from '../merge-queue.ts';
import { type TaskPayload, taskVerifyCommands } from '../task-payload.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import type { TaskAttempt } from './task-attempt.ts';

const RESOLUTION_SUFFIX = '-fix';
/** Resolution tasks may themselves need resolving; past this depth the task fails instead. */
const DEFAULT_MAX_RESOLUTION_DEPTH = 3;

type RejectedMerge = Extract<MergeResult, { outcome: 'conflict' | 'verification_failed' }>;

/**
 * A rejected merge (a conflict, or a red re-verification on the rebased result) becomes a
 * resolution task `<task-id>-fix` that carries the task's work onto main; the task waits for it.
 */
export async function deferToResolution(
  attempt: TaskAttempt,
  merge: RejectedMerge,
): Promise<TaskWorkOutcome> {
  const { claim, payload } = attempt;
  const { task, context } = claim;
  const depth = task.id.split(RESOLUTION_SUFFIX).length - 1;
  const details =
    merge.outcome === 'conflict'
      ? `merge conflict in ${merge.files.join(', ')}`
      : merge.gate !== undefined
        ? `the ${merge.gate.name} gate failed on the rebased result (main passes it): ${merge.gate.reason}`
        : `re-verification on the rebased result failed: \`${merge.command}\` exited ${merge.exitCode ?? '?'}`;
  if (depth >= (context.maxResolutionDepth ?? DEFAULT_MAX_RESOLUTION_DEPTH)) {
    await context.workspace.queue.fail(task.id, claim.workerId, `${details} (resolution depth exhausted)`);
    return 'failed';
  }
  const existing = new Set((await context.workspace.queue.list()).map((candidate) => candidate.id));
  let resolutionId = `${task.id}${RESOLUTION_SUFFIX}`;
  for (let n = 2; existing.has(resolutionId); n += 1) resolutionId = `${task.id}${RESOLUTION_SUFFIX}-${n}`;
  const resolutionTask = {
    ...describeResolution(task, merge, details),
    id: resolutionId,
    priority: Math.min(10, task.priority + 1),
    runId: context.runId,
    maxAttempts: task.maxAttempts,
    timeoutSeconds: task.timeoutSeconds,
    payload: resolutionPayload(payload, merge, attempt.projectGates, task.id),
  };
  await context.workspace.queue.defer(task.id, claim.workerId, [resolutionTask], details);
  context.emit({
    type: 'merge.rejected',
    runId: context.runId,
    taskId: task.id,
    data: { outcome: merge.outcome, details, resolutionTaskId: resolutionId },
  });
  return 'deferred';
}

/** Who resolves it and what they are told: the task, the rejection, what the merge queue saw. */
function describeResolution(
  task: Task,
  merge: RejectedMerge,
  details: string,
): { type: string; title: string; description: string } {
  const evidence = merge.outcome === 'conflict' ? merge.details : merge.outputTail;
  const description = [
    `Bring the work of task ${task.id} ("${task.title}") onto main: its merge was rejected (${details}).`,
    `Your worktree starts from the current main with the changes of branch ${taskBranchName(task.id)} applied as one change` +
      (merge.outcome === 'conflict'
        ? '; the conflicting files contain conflict markers (<<<<<<< … >>>>>>>).'
        : '.'),
    "Resolve it so that both main's changes and the task's intent are kept, remove every conflict marker, and make the verification pass.",
    '',
    `Original task:\n${task.description}`,
    '',
    `What the merge queue saw:\n${evidence.slice(-3000)}`,
  ].join('\n');
  return {
    // The engineering agent of the task resolves it, or a backend engineer when the task was not engineering work.
    type: findAgentType(task.type).swarm === 'engineering' ? task.type : 'eng-backend',
    title: `Resolve the merge of ${task.id}`,
    description,
  };
}

/** What the resolution must pass, and which tasks' work it carries. */
function resolutionPayload(
  payload: TaskPayload,
  merge: RejectedMerge,
  projectGates: readonly string[],
  taskId: string,
): TaskPayload {
  const evidence = merge.outcome === 'conflict' ? merge.details : merge.outputTail;
  return {
    ...payload,
    verifyCommands: [
      ...new Set([
        ...taskVerifyCommands(payload, projectGates),
        // The command that refused the merge (often a project gate the task broke) must pass too.
        ...(merge.outcome === 'verification_failed' && merge.gate?.hasCommand !== false
          ? [merge.command]
          : []),
        // No conflict marker may survive a resolution, whatever the project's own checks say.
        "! git grep -n -I -E '^(<<<<<<<|>>>>>>>)( |$)' -- .",
      ]),
    ],
    resolves: taskId,
    // A resolution of a resolution carries the original task's work too.
    alsoResolves: [...payload.alsoResolves, ...(payload.resolves === undefined ? [] : [payload.resolves])],
    resolution: {
      outcome: merge.outcome,
      details: evidence.slice(-3000),
      files: merge.outcome === 'conflict' ? merge.files : [],
    },
  };
}
