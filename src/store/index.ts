export type { BreakerSnapshot, BreakerState, BreakerTransition } from './breaker-record.ts';
export { checkSqliteStore, type StoreIntegrity } from './sqlite/check-sqlite-store.ts';
export { SqliteStore, type SqliteStoreOptions, type StoreRedactor } from './sqlite/sqlite-store.ts';
export type {
  CancelledTasks,
  ClaimRequest,
  EventFilter,
  NewRun,
  RetryPolicy,
  Run,
  RunChanges,
  RunStatus,
  Store,
  StoreSnapshot,
  StoreSummary,
  TaskFilter,
} from './store.ts';
export { runStatusOf } from './store.ts';
export {
  deferralCycle,
  duplicateIdempotencyKey,
  duplicateTaskId,
  invalidTaskTransition,
  taskLeaseLost,
  taskNotFound,
  unknownDependency,
} from './store-errors.ts';
export {
  isStoreFault,
  STORE_FAULT_CODES,
  storeFault,
  type StoreFaultKind,
  storeFaultFromSystemError,
} from './store-faults.ts';
export {
  emptyTaskCounts,
  MAX_PRIORITY,
  MIN_PRIORITY,
  type NewTask,
  TASK_STATUSES,
  type Task,
  type TaskCounts,
  type TaskStatus,
} from './task-record.ts';
