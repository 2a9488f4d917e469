export type { BreakerSnapshot, BreakerState, BreakerTransition } from './breaker-record.ts';
export { type EventsAppendedListener, EventsAppendedNotifier } from './events-appended-notifier.ts';
export { checkSqliteStore, type StoreIntegrity } from './sqlite/check-sqlite-store.ts';
export { isPostgresUrl, parsePostgresUrl, redactPostgresUrl } from './postgres/postgres-url.ts';
export { ADVISORY_NAMESPACES, PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.ts';
export { SqliteStore, type SqliteStoreOptions, type StoreRedactor } from './sqlite/sqlite-store.ts';
export type {
  CancelledTasks,
  ClaimRequest,
  EventFilter,
  NewRun,
  RetryPolicy,
  Run,
  RunChanges,
  RunControlAction,
  RunControlOutcome,
  RunControlRequest,
  RunControlState,
  RunStatus,
  SharedBudgetLedger,
  Store,
  StoreSnapshot,
  StoreSummary,
  TaskFilter,
} from './store.ts';
export {
  attributeTasks,
  LOST_AFTER_HEARTBEATS,
  type WorkerHeartbeat,
  type WorkerRecord,
  type WorkerRole,
  type WorkerState,
  workerStateOf,
} from './worker-record.ts';
export { decideRunControl } from './decide-run-control.ts';
export { runStatusOf } from './store.ts';
export {
  deferralCycle,
  duplicateIdempotencyKey,
  duplicateTaskId,
  invalidTaskTransition,
  runNotFound,
  runNotRunning,
  runStopping,
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
