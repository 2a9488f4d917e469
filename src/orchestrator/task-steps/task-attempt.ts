import type { SealedTest } from '../../acceptance/index.ts';
import type { TaskAgent } from '../../runtime/index.ts';
import type { TaskPayload } from '../task-payload.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import type { TaskClaim } from './task-claim.ts';

export interface TaskWorkHooks {
  /** Told once the agent's part is over (verified, or a checkpoint reused): its slot goes to the next task. */
  onAgentDone?: () => void;
}

/** What the steps of one claim of a task share. */
export interface TaskAttempt {
  readonly claim: TaskClaim;
  readonly payload: TaskPayload;
  /** The project's gates as the claim began (TaskWorkerContext.projectGates). */
  readonly projectGates: readonly string[];
  readonly hooks: TaskWorkHooks;
  /** Whether the worktree step made a new branch from main (nothing of the task's on it yet). */
  isNewBranch: boolean;
  /** The agent's rounds and usage, for the task's record (none when a verified checkpoint was reused). */
  rounds: number;
  usage: unknown;
  /** The workspace's sealed acceptance tests, read before the agent starts (none for a QA task). */
  sealedTests?: ReadonlyMap<string, SealedTest>;
  /** The task's agent once made: a review's fix round continues the same session. */
  agent?: TaskAgent;
}

/** One step of a claim: it ends the claim with its outcome, or returns null to hand on to the next step. */
export type TaskStep = (attempt: TaskAttempt) => Promise<TaskWorkOutcome | null>;
