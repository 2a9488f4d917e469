/**
 * The one place where Loki's events are defined. Every state change in the store appends one of
 * these in the same transaction as the row it changes; the dashboard, STATUS.txt, metrics and the
 * CLI read them instead of polling or grepping logs.
 */

export interface TaskEnqueuedData {
  type: string;
  title: string;
  priority: number;
  dependencies: string[];
  idempotencyKey: string | null;
}
export interface TaskClaimedData {
  workerId: string;
  attempt: number;
  leaseExpiresAt: number;
}
export interface TaskCompletedData {
  workerId: string;
  attempt: number;
}
export interface TaskFailedData {
  workerId: string;
  attempt: number;
  error: string;
  failureCount: number;
  backoffSeconds: number;
  availableAt: number;
}
export interface TaskDeadLetteredData {
  workerId: string | null;
  error: string;
  failureCount: number;
}
export interface TaskLeaseExpiredData {
  workerId: string | null;
  reason: 'claim_timeout';
  failureCount: number;
}
export interface TaskCancelledData {
  previousStatus: string;
  reason: string | null;
}
export interface TaskRetriedData {
  previousStatus: string;
}
export interface TaskReprioritizedData {
  previousPriority: number;
  priority: number;
}
export interface WorkspaceInitializedData {
  root: string;
  hasPrd: boolean;
}
export interface RunStartedData {
  prdPath: string | null;
}
export interface RunPhaseEnteredData {
  phase: string;
}
export interface RunEndedData {
  status: string;
}

export interface EventDataByType {
  'task.enqueued': TaskEnqueuedData;
  'task.claimed': TaskClaimedData;
  'task.completed': TaskCompletedData;
  'task.failed': TaskFailedData;
  'task.dead_lettered': TaskDeadLetteredData;
  'task.lease_expired': TaskLeaseExpiredData;
  'task.cancelled': TaskCancelledData;
  'task.retried': TaskRetriedData;
  'task.reprioritized': TaskReprioritizedData;
  'workspace.initialized': WorkspaceInitializedData;
  'run.started': RunStartedData;
  'phase.entered': RunPhaseEnteredData;
  'run.ended': RunEndedData;
}

export type EventType = keyof EventDataByType;

/** An event about to be appended (the store assigns `sequence`). */
export type NewEvent = {
  [K in EventType]: { type: K; runId: string | null; taskId: string | null; data: EventDataByType[K] };
}[EventType];

/** An event as stored: totally ordered by `sequence` within one store. */
export type LokiEvent = NewEvent & { sequence: number; createdAt: number };

export const EVENT_TYPES: readonly EventType[] = [
  'task.enqueued',
  'task.claimed',
  'task.completed',
  'task.failed',
  'task.dead_lettered',
  'task.lease_expired',
  'task.cancelled',
  'task.retried',
  'task.reprioritized',
  'workspace.initialized',
  'run.started',
  'phase.entered',
  'run.ended',
];
