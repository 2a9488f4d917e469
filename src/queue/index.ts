export { type BackoffSettings, computeBackoffSeconds, DEFAULT_BACKOFF } from './backoff.ts';
export { findDependencyCycle } from './dependency-cycle.ts';
export {
  type ClaimOptions,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PRIORITY,
  DEFAULT_TIMEOUT_SECONDS,
  type EnqueueRequest,
  TaskQueue,
  type TaskQueueOptions,
  validatePriority,
} from './task-queue.ts';
