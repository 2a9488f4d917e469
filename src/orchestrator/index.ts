export { checkpointMessage } from '../git/index.ts';
export { MergeQueue, type MergeQueueOptions, type MergeRequest, type MergeResult } from './merge-queue.ts';
export {
  type AgentSource,
  type AgentSourceOptions,
  createAgentSource,
  type TaskAgentRequest,
} from './agent-source.ts';
export { type RunOutcome, runPipeline, type RunPipelineOptions } from './run-pipeline.ts';
export { acquireRunLock, readRunLock, type RunLock, type RunLockOwner } from './run-lock.ts';
export {
  RUN_CONTROL_POLL_MILLISECONDS,
  RunControlWatch,
  type RunControlWatchOptions,
} from './run-control-watch.ts';
export { buildRunReport, type RunReport, type RunStatusWord, writeRunReport } from './run-report.ts';
export { MergedWorkIndex, readMergedTasks, type MergedTask } from './merged-work.ts';
export type { AttachDistributedMerging, DistributedMerging, RemoteSync, TaskMerger } from './task-merger.ts';
export { bringCheckedOutMainForward } from './bring-main-checkout-forward.ts';
export { checkHealth } from './health-check.ts';
export { readProjectGates, readRecordedProjectGates } from './project-gates.ts';
export { computeWorkerLimit, WorkerLimiter } from './worker-limit.ts';
export { runScheduler, type SchedulerOptions, type SchedulerResult } from './scheduler.ts';
export type { TaskWorkerContext } from './task-worker.ts';
export { removeLeftoverWorktrees } from './recover-workspace.ts';
export {
  DEFAULT_HEARTBEAT_MILLISECONDS,
  runWorkerId,
  WorkerPresence,
  type WorkerPresenceOptions,
  workerProcessId,
} from './worker-presence.ts';
