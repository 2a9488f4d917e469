import { findAgentType, tierForComplexity } from '../../agents/index.ts';
import {
  assertWorktreeIntact,
  checkpointMessage,
  LOKI_GIT_IDENTITY,
  runGit,
  type TaskWorktree,
  taskBranchName,
  WITHOUT_AUTO_MAINTENANCE,
} from '../../git/index.ts';
import {
  joinVerifyCommands,
  runTaskCycle,
  type TaskAgent,
  type TaskCycleResult,
  taskRetryPolicy,
} from '../../runtime/index.ts';
import type { Task } from '../../store/index.ts';
import { ContinuityFile } from '../../workspace/index.ts';
import { taskVerifyCommands } from '../task-payload.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import { acceptanceCheck } from './acceptance-step.ts';
import { releaseTask } from './claim-endings.ts';
import { isReviewed } from './review-policy.ts';
import type { TaskAttempt } from './task-attempt.ts';
import type { TaskClaim } from './task-claim.ts';
import { mainCommit } from './worktree-step.ts';

/**
 * Agent and verification: the RARV cycle in the task's worktree (the agent's rounds, each verified
 * by the harness, then a checkpoint commit). Skipped when the branch already ends in this task's
 * verified checkpoint that main does not hold (a run died between verification and merge): that
 * work is kept, not redone. Work that nothing verified is never merged: the task fails.
 */
export async function runAgent(attempt: TaskAttempt): Promise<TaskWorkOutcome | null> {
  const { claim } = attempt;
  const worktree = claim.requireWorktree();
  // Two reads, side by side: main is only used when the branch has nothing pending.
  // A branch made just now from main has no checkpoint and starts from today's main: nothing to ask git.
  const [hasPending, main] = attempt.isNewBranch
    ? [false, worktree.baseCommit]
    : await Promise.all([hasPendingCheckpoint(worktree, claim), mainCommit(claim.context)]);
  if (hasPending) return null;
  await startFromMain(attempt, worktree, main);
  const cycle = await runCycle(attempt);
  await claim.pendingWorktree?.ready;
  attempt.rounds = cycle.attempts;
  attempt.usage = cycle.usage;
  return endOfCycle(attempt, cycle);
}

/** Throws (the task fails, naming close matches) for an agent type the catalog does not know. */
export async function checkAgentType(attempt: TaskAttempt): Promise<null> {
  findAgentType(attempt.claim.task.type);
  return null;
}

/** Nothing of its own on the branch yet: start from today's main, not the main of an earlier attempt. */
async function startFromMain(attempt: TaskAttempt, worktree: TaskWorktree, main: string): Promise<void> {
  const { claim } = attempt;
  const signal = claim.context.signal;
  if (worktree.baseCommit !== main && (await isAncestor(worktree.path, 'HEAD', main))) {
    await runGit(worktree.path, ['reset', '--hard', '--quiet', main], { signal });
    claim.worktree = { ...worktree, baseCommit: main };
  }
  // A resolution task starts from main with the rejected task's changes brought in as one squashed
  // change, conflict markers included; its agent resolves them and the harness verifies.
  const resolves = attempt.payload.resolves;
  if (resolves !== undefined) {
    await runGit(
      worktree.path,
      ['-c', 'core.hooksPath=/dev/null', 'merge', '--squash', '--no-verify', taskBranchName(resolves)],
      { allowFailure: true, env: LOKI_GIT_IDENTITY, signal },
    );
  }
}

/**
 * A fix round after blocking review findings: the task's agent (the same session when it ran in
 * this claim) gets the findings, within the same rounds per attempt, and the harness verifies
 * again. Null when the fix is verified and checkpointed; otherwise how the claim ends.
 */
export async function runFixRound(attempt: TaskAttempt, feedback: string): Promise<TaskWorkOutcome | null> {
  const cycle = await runCycle(attempt, feedback);
  attempt.rounds += cycle.attempts;
  return endOfCycle(attempt, cycle);
}

function createAgent(attempt: TaskAttempt): TaskAgent {
  const { claim, payload } = attempt;
  const { task, context } = claim;
  const agentType = findAgentType(task.type);
  const tier = tierForComplexity(payload.complexity, agentType);
  const retry = taskRetryPolicy({
    config: context.config,
    breakerConfig: context.breakerConfig,
    clock: context.clock,
    store: context.workspace.store,
    provider: context.source.provider,
    agentType: task.type,
    ...(context.random === undefined ? {} : { random: context.random }),
    canRequeue: true,
  });
  const pendingWorktree = claim.pendingWorktree;
  return context.source.createTaskAgent({
    task,
    agentType,
    tier,
    worktree: claim.requireWorktree(),
    emit: context.emit,
    retry,
    runId: context.runId,
    governor: context.governor,
    signal: context.signal,
    maxSteps: context.maxSteps,
    ...(pendingWorktree === undefined ? {} : { worktreeReady: pendingWorktree.ready }),
  });
}

async function runCycle(attempt: TaskAttempt, feedback?: string): Promise<TaskCycleResult> {
  const { claim, payload } = attempt;
  const { task, context } = claim;
  const worktree = claim.requireWorktree();
  const tier = tierForComplexity(payload.complexity, findAgentType(task.type));
  attempt.agent ??= createAgent(attempt);
  const agent = attempt.agent;
  const pendingWorktree = claim.pendingWorktree;
  return runTaskCycle({
    task,
    worktree,
    continuity: new ContinuityFile(context.workspace.paths.continuityFile, context.workspace.redactor),
    redactor: context.workspace.redactor,
    verifyCommand: verifyCommandOf(attempt),
    ...withDefined('checkWork', acceptanceCheck(attempt)),
    verifyTimeoutMilliseconds: task.timeoutSeconds * 1000,
    runner: context.runner,
    verifyEnvironment: context.verifyEnvironment,
    maxAttempts: context.roundsPerAttempt,
    agent,
    agentDescription: {
      runId: context.runId,
      runtime: context.source.runtime,
      provider: context.source.provider,
      model: context.source.modelIdFor(tier),
    },
    emit: context.emit,
    // The agent's part is over once its work is verified: its slot goes to the next task. A change
    // that is reviewed keeps the slot: its reviewers and fix rounds are agents too.
    onVerified: () => {
      if (!isReviewed(attempt)) attempt.hooks.onAgentDone?.();
    },
    ...(pendingWorktree === undefined ? {} : { pendingWorktree }),
    ...(feedback === undefined ? {} : { feedback }),
    signal: context.signal,
  });
}

/**
 * Its own verify commands, or the project's gates when it has none; neither: not proven. A task
 * with sealed acceptance tests also runs the project's gates, which run those tests; a QA task
 * writing acceptance tests runs nothing (they fail until the implementation exists): it is checked.
 */
function verifyCommandOf(attempt: TaskAttempt): string | null {
  const { payload, claim } = attempt;
  if (payload.acceptanceFor !== undefined) return null;
  const commands = taskVerifyCommands(payload, attempt.projectGates);
  const hasSealedTests = [...(attempt.sealedTests?.values() ?? [])].some(
    (test) => test.forTaskId === claim.task.id,
  );
  if (!hasSealedTests) return joinVerifyCommands(commands);
  const gates = attempt.projectGates.filter((gate) => !commands.includes(gate));
  return joinVerifyCommands([...commands, ...gates]);
}

function withDefined<Key extends string, Value>(key: Key, value: Value | undefined): { [K in Key]?: Value } {
  return (value === undefined ? {} : { [key]: value }) as { [K in Key]?: Value };
}

/** Stopped: back to the queue (or withdrawn); not verified: the task fails; verified: on to the merge. */
async function endOfCycle(attempt: TaskAttempt, cycle: TaskCycleResult): Promise<TaskWorkOutcome | null> {
  const { claim } = attempt;
  if (cycle.outcome === 'aborted') {
    if (claim.isCancelled) return 'withdrawn';
    return releaseTask(claim, 'stopped');
  }
  if (cycle.outcome === 'failed' || cycle.outcome === 'not_proven') {
    await claim.settled();
    await claim.context.workspace.queue.fail(claim.task.id, claim.workerId, cycle.error ?? 'not verified');
    return 'failed';
  }
  if (cycle.checkpointCommit === null) await commitEmptyCheckpoint(claim.requireWorktree(), claim.task);
  return null;
}

/** Verified with nothing changed: still one checkpoint, so main records that the task ran. */
async function commitEmptyCheckpoint(worktree: TaskWorktree, task: Task): Promise<void> {
  assertWorktreeIntact(worktree.path);
  await runGit(
    worktree.path,
    [
      ...WITHOUT_AUTO_MAINTENANCE,
      'commit',
      '--quiet',
      '--allow-empty',
      '--no-verify',
      '-m',
      checkpointSubject(task),
    ],
    { env: LOKI_GIT_IDENTITY },
  );
}

/**
 * True when the branch already ends in this task's verified checkpoint that main does not hold: a
 * run died between verification and merge. That work is kept, not redone.
 */
async function hasPendingCheckpoint(worktree: TaskWorktree, claim: TaskClaim): Promise<boolean> {
  const subject = (await runGit(worktree.path, ['log', '-1', '--format=%s'])).stdout.trim();
  if (subject !== checkpointSubject(claim.task)) return false;
  return !(await isAncestor(worktree.path, 'HEAD', `refs/heads/${claim.context.mainBranch}`));
}

async function isAncestor(cwd: string, commit: string, of: string): Promise<boolean> {
  const result = await runGit(cwd, ['merge-base', '--is-ancestor', commit, of], { allowFailure: true });
  return result.exitCode === 0;
}

function checkpointSubject(task: Task): string {
  return checkpointMessage({ agentType: task.type, taskId: task.id, title: task.title });
}
