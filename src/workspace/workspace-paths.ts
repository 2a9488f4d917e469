import { join } from 'node:path';

/** Where everything lives under a workspace's `.loki/` (DESIGN.md §1: all Loki state is there). */
export interface WorkspacePaths {
  root: string;
  lokiDirectory: string;
  database: string;
  statusFile: string;
  continuityFile: string;
  gitignoreFile: string;
  stateDirectory: string;
  orchestratorStateFile: string;
  projectionLock: string;
  /** Held by the live `loki run` (src/orchestrator/run-lock.ts): its pid and process start time. */
  runLockFile: string;
  queueDirectory: string;
  configDirectory: string;
  configFile: string;
  circuitBreakersFile: string;
  alertingFile: string;
  specsDirectory: string;
  prdCopy: string;
  logsDirectory: string;
  reportsDirectory: string;
  /** Online backups of the store taken during runs (see store-backups.ts). */
  backupsDirectory: string;
}

export function workspacePaths(root: string): WorkspacePaths {
  const lokiDirectory = join(root, '.loki');
  return {
    root,
    lokiDirectory,
    database: join(lokiDirectory, 'loki.db'),
    statusFile: join(lokiDirectory, 'STATUS.txt'),
    continuityFile: join(lokiDirectory, 'CONTINUITY.md'),
    gitignoreFile: join(lokiDirectory, '.gitignore'),
    stateDirectory: join(lokiDirectory, 'state'),
    orchestratorStateFile: join(lokiDirectory, 'state', 'orchestrator.json'),
    projectionLock: join(lokiDirectory, 'state', 'projections.lock'),
    runLockFile: join(lokiDirectory, 'state', 'run.lock'),
    queueDirectory: join(lokiDirectory, 'queue'),
    configDirectory: join(lokiDirectory, 'config'),
    configFile: join(lokiDirectory, 'config', 'loki.yaml'),
    circuitBreakersFile: join(lokiDirectory, 'config', 'circuit-breakers.yaml'),
    alertingFile: join(lokiDirectory, 'config', 'alerting.yaml'),
    specsDirectory: join(lokiDirectory, 'specs'),
    prdCopy: join(lokiDirectory, 'specs', 'prd.md'),
    logsDirectory: join(lokiDirectory, 'logs'),
    reportsDirectory: join(lokiDirectory, 'artifacts', 'reports'),
    backupsDirectory: join(lokiDirectory, 'artifacts', 'backups'),
  };
}

/** The directory tree `loki init` creates, relative to `.loki/`. */
export const WORKSPACE_DIRECTORIES: readonly string[] = [
  'state',
  'queue',
  'memory/episodic',
  'memory/semantic',
  'memory/procedural',
  'metrics',
  'messages',
  'logs',
  'config',
  'prompts',
  'artifacts/releases',
  'artifacts/reports',
  'artifacts/backups',
  'dashboard',
  'scripts',
  'specs',
];
