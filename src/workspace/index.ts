export { writeFileAtomic } from './atomic-write.ts';
export { type InitWorkspaceOptions, type InitWorkspaceResult, initWorkspace } from './init-workspace.ts';
export {
  type OpenWorkspaceOptions,
  openWorkspace,
  openWorkspaceStore,
  Workspace,
  type WorkspaceOptions,
} from './open-workspace.ts';
export { MAX_PRD_BYTES, readPrd } from './read-prd.ts';
export {
  buildStatusReport,
  formatStatusText,
  INTERRUPTED_RUN_HINT,
  PAUSED_RUN_HINT,
  queueCounts,
  type StatusReport,
  type StatusReportOptions,
} from './status-report.ts';
export { WORKSPACE_DIRECTORIES, type WorkspacePaths, workspacePaths } from './workspace-paths.ts';
export { CONTINUITY_SECTIONS, continuityTemplate } from './workspace-templates.ts';
export { projectTask, QUEUE_PROJECTION_FILES, writeProjections } from './write-projections.ts';
export { type ContinuitySection, ContinuityFile } from './continuity-file.ts';
export {
  backUpStore,
  listStoreBackups,
  STORE_BACKUP_INTERVAL_MILLISECONDS,
  STORE_BACKUPS_KEPT,
  type StoreBackupSchedule,
  type StoreBackupScheduleOptions,
  storeRestoreAdvice,
} from './store-backups.ts';
export { assertStoreNotLost } from './store-history.ts';
export { probeWorkspaceFault, toWorkspaceFault } from './workspace-faults.ts';
export { LOKI_ENTRY_POINT } from './loki-entry-point.ts';
export { isInsideGitWorkTree } from './git-repository.ts';
export {
  describeWorker,
  formatAgeSeconds,
  groupWorkersByMachine,
  type MachineReport,
  type WorkerReport,
  workerReportOf,
} from './worker-report.ts';
