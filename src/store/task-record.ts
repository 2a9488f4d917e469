/**
 * The task as the store keeps it. The queue (src/queue) owns the lifecycle rules; the store owns
 * making each transition atomic and durable together with its event.
 */

export const TASK_STATUSES = [
  'pending',
  'in_progress',
  'completed',
  'failed',
  'dead_letter',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 10;

export interface Task {
  id: string;
  /** The agent type that should run it, e.g. `eng-backend`. */
  type: string;
  title: string;
  description: string;
  /** 1–10, 10 is critical. */
  priority: number;
  dependencies: string[];
  payload: unknown;
  idempotencyKey: string | null;
  runId: string | null;
  status: TaskStatus;
  /** How long one attempt may run; also the default lease length. */
  timeoutSeconds: number;
  maxAttempts: number;
  /** How many times the task has been claimed. */
  attemptCount: number;
  /** How many attempts failed (explicit failure or lease expiry); reset by a retry from dead letter. */
  failureCount: number;
  /** The backoff applied after the last failure, in seconds. */
  backoffSeconds: number;
  /** Epoch ms before which the task may not be claimed. */
  availableAt: number;
  createdAt: number;
  updatedAt: number;
  claimedBy: string | null;
  claimedAt: number | null;
  leaseExpiresAt: number | null;
  completedAt: number | null;
  lastError: string | null;
  result: unknown;
}

/** What the queue hands the store to insert; all defaults already applied and validated. */
export interface NewTask {
  id: string;
  type: string;
  title: string;
  description: string;
  priority: number;
  dependencies: string[];
  payload: unknown;
  idempotencyKey: string | null;
  runId: string | null;
  timeoutSeconds: number;
  maxAttempts: number;
}

export type TaskCounts = Record<TaskStatus, number>;

export function emptyTaskCounts(): TaskCounts {
  return { pending: 0, in_progress: 0, completed: 0, failed: 0, dead_letter: 0, cancelled: 0 };
}
