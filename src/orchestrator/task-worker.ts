import type { BudgetGovernor } from '../budget/index.ts';
import type { Clock, RandomSource } from '../clock/index.ts';
import type { CircuitBreakerConfig, LokiConfig } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';
import type { AgentSource } from './agent-source.ts';
import type { MergedWorkIndex } from './merged-work.ts';
import { placeAcceptanceTests, sealQaWork } from './task-steps/acceptance-step.ts';
import { checkAgentType, runAgent } from './task-steps/agent-step.ts';
import { settleFailure } from './task-steps/claim-endings.ts';
import { completeIfAlreadyMerged, mergeIntoMain } from './task-steps/merge-step.ts';
import { reviewChange } from './task-steps/review-step.ts';
import type { TaskAttempt, TaskStep, TaskWorkHooks } from './task-steps/task-attempt.ts';
import { TaskClaim } from './task-steps/task-claim.ts';
import { openWorktree } from './task-steps/worktree-step.ts';
import { readTaskPayload } from './task-payload.ts';
import type { RemoteSync, TaskMerger } from './task-merger.ts';

/** What a run works with, whoever uses it: the pipeline and each task worker. */
export interface RunServices {
  workspace: Workspace;
  source: AgentSource;
  runner: CommandRunner;
  verifyEnvironment: Readonly<Record<string, string>>;
  config: LokiConfig;
  breakerConfig: CircuitBreakerConfig;
  clock: Clock;
}

export interface TaskWorkerContext extends RunServices {
  runId: string;
  mainBranch: string;
  /** The run's merge queue, or on a distributed run the merge coordinator behind a remote merger. */
  mergeQueue: TaskMerger;
  /** Set when the run's repository is shared through a remote (distributed runs): see RemoteSync. */
  remote?: RemoteSync;
  random?: RandomSource;
  governor: BudgetGovernor | null;
  /** What main already holds (loaded once per process, updated by each merge). */
  merged: MergedWorkIndex;
  emit: (event: NewEvent) => void;
  /** Aborted on a graceful stop: agents are signalled and their tasks go back to the queue. */
  signal: AbortSignal;
  /** Agent rounds (each ending in a verification) in one claim of a task. */
  roundsPerAttempt: number;
  maxSteps: number;
  /** Resolution tasks may themselves need resolving; past this depth the task fails instead. */
  maxResolutionDepth?: number;
  /**
   * The project's gates (the architecture's verifyCommands): they verify a task with none of its
   * own. Read once per claim: a worker on another machine reads what the run has recorded by then.
   */
  projectGates: () => Promise<readonly string[]>;
}

/**
 * How one claim of a task ended. merged: its work is on main (task completed); deferred: its merge
 * was rejected and a resolution task now carries it; failed: the attempt counted as a failure
 * (backoff or dead letter); released: stopped, or waiting for a rate limit, an open breaker or the
 * shared git remote, back to the queue without a failure counted; budget: the budget cap stopped it (also released);
 * abandoned: the worker lost the lease (another worker holds the task), nothing of it was merged;
 * withdrawn: the task was cancelled while it ran: its agent stopped, nothing of it merged, and the
 * queue is left as the store says.
 * A permanent provider failure (bad key, no quota, unknown model) releases the task and is thrown:
 * the run cannot go on without the user. So is a failure to record the outcome in the store.
 */
export type TaskWorkOutcome =
  'merged' | 'deferred' | 'failed' | 'released' | 'budget' | 'abandoned' | 'withdrawn';

/** The steps of one claim before its merge, in order (task-steps/). */
const STEPS_BEFORE_MERGE: readonly TaskStep[] = [
  // On a distributed run: main and the task's branch as the shared remote has them.
  syncWithRemote,
  // Main already holds its work (a run died before recording it): completed, nothing redone.
  completeIfAlreadyMerged,
  // An agent type the catalog does not know fails the task before anything is made for it.
  checkAgentType,
  // Its worktree on branch loki/<task-id>, back at the branch's last checkpoint.
  openWorktree,
  // The acceptance tests a QA task wrote and Loki sealed for this task, placed in its worktree.
  placeAcceptanceTests,
  // The RARV cycle: agent rounds, each verified by the harness, then a checkpoint (or the
  // verified checkpoint a crashed run left, reused).
  runAgent,
  // A QA task's tests are sealed; one writing a task's acceptance tests completes here, unmerged.
  sealQaWork,
  // Blind review of the verified change; blocking findings go back to the agent (review-step.ts).
  reviewChange,
];

async function syncWithRemote(attempt: TaskAttempt): Promise<null> {
  const { claim } = attempt;
  await claim.context.remote?.prepareTask(claim.task.id, claim.context.signal);
  return null;
}

/**
 * One claim of one task, end to end, as its steps: worktree → agent → verification and checkpoint
 * → review → merge, under a claim that keeps the lease alive, watches for a cancel and always
 * removes the worktree. A step ends the claim early with its outcome (merged already, stopped, not
 * verified, review rounds used up); a step that throws ends it as `settleFailure` says (released, failed, abandoned, or thrown on).
 */
export async function workOnTask(
  task: Task,
  workerId: string,
  runContext: TaskWorkerContext,
  hooks: TaskWorkHooks = {},
): Promise<TaskWorkOutcome> {
  await using claim = new TaskClaim(task, workerId, runContext);
  try {
    // A malformed payload fails the task with an error naming it, never as an empty payload.
    const attempt: TaskAttempt = {
      claim,
      payload: readTaskPayload(task),
      projectGates: await runContext.projectGates(),
      hooks,
      isNewBranch: false,
      rounds: 0,
      usage: null,
    };
    for (const step of STEPS_BEFORE_MERGE) {
      const outcome = await step(attempt);
      if (outcome !== null) return outcome;
    }
    return await mergeIntoMain(attempt);
  } catch (error) {
    return await settleFailure(claim, error);
  }
}
