import type { MergeQueue, MergeRequest, MergeResult } from './merge-queue.ts';

/**
 * What the merge step of a task hands its verified branch to: the in-process MergeQueue on one
 * machine, or a remote merger that asks the run's merge coordinator on another (src/distributed).
 * The merge step does not care which: both answer with a MergeResult.
 */
export interface TaskMerger {
  merge(request: MergeRequest): Promise<MergeResult>;
  /** Where main stands after this merger's last merge, when it knows (saves asking git); else null. */
  readonly mainTip: string | null;
}

/**
 * How a task worker's local clone keeps up with a shared remote (`loki worker`, and the run with
 * `--repo`): called right after a claim, before anything reads main or opens the task's worktree.
 * It brings local main to the remote's and fetches the task's branch when the remote has one, so a
 * checkpoint another machine pushed is reused and work main already holds is recognised.
 */
export interface RemoteSync {
  prepareTask(taskId: string, signal: AbortSignal): Promise<void>;
}

/** What a distributed run's task workers merge with, made once the run's merge queue exists. */
export interface DistributedMerging {
  merger: TaskMerger;
  remote: RemoteSync;
  /** Stops what runs beside the run (the merge coordinator); called when the run ends. */
  close(): Promise<void>;
}

/**
 * A run whose repository is shared through a remote: given the run's own merge queue (which the
 * merge coordinator merges with), the merger and remote sync of its task workers.
 */
export type AttachDistributedMerging = (local: {
  mergeQueue: MergeQueue;
  runId: string;
  mainBranch: string;
}) => DistributedMerging;
