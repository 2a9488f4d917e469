import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Clock, systemClock } from '../clock/index.ts';
import { usageError } from '../errors/index.ts';
import type { BackoffSettings } from '../queue/index.ts';
// By their own files, and the PostgreSQL adapter only when a store URL asks for it: the barrels
// load the driver and every adapter, which a command on a SQLite workspace never uses.
import { TaskQueue } from '../queue/task-queue.ts';
import { createRedactor, type Redactor } from '../sandbox/redactor.ts';
import type { Store, StoreSnapshot } from '../store/index.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { StatusReportOptions } from './status-report.ts';
import {
  type StoreBackupSchedule,
  type StoreBackupScheduleOptions,
  backUpStore,
  scheduleStoreBackups,
  storeRestoreAdvice,
} from './store-backups.ts';
import { assertStoreNotLost } from './store-history.ts';
import { type WorkspacePaths, workspacePaths } from './workspace-paths.ts';
import { writeProjections } from './write-projections.ts';

export interface OpenWorkspaceOptions extends StatusReportOptions {
  clock: Clock;
  backoff?: BackoffSettings;
  /**
   * Replaces secrets in everything the workspace writes: the store (events, task errors and
   * results), CONTINUITY.md and reports. Build it from the process environment
   * (`createRedactor({ env })`) so that the values of the configured keys are known; the default
   * knows only well-known token shapes.
   */
  redactor?: Redactor;
  /**
   * Where the store lives: a postgres:// URL (config key `store`, LOKI_STORE_URL, `--store`), or
   * empty / absent for the workspace's own SQLite file .loki/loki.db.
   */
  storeUrl?: string;
}

export interface WorkspaceOptions extends StatusReportOptions {
  /** Names the store's backups. */
  clock?: Clock;
}

/** An initialised workspace with its store open. Dispose it to close the store. */
export class Workspace implements AsyncDisposable {
  readonly paths: WorkspacePaths;
  readonly store: Store;
  readonly queue: TaskQueue;
  /** For every file the workspace's users write under .loki/ (the store redacts by itself). */
  readonly redactor: Redactor;
  readonly #options: WorkspaceOptions;

  constructor(
    paths: WorkspacePaths,
    store: Store,
    queue: TaskQueue,
    redactor: Redactor,
    options: WorkspaceOptions = {},
  ) {
    this.paths = paths;
    this.store = store;
    this.queue = queue;
    this.redactor = redactor;
    this.#options = options;
  }

  /** Rewrites the queue JSON files, orchestrator.json and STATUS.txt from the store. */
  refreshProjections(): Promise<StoreSnapshot> {
    return writeProjections(this.store, this.paths, {
      ...(this.#options.isRunAlive === undefined ? {} : { isRunAlive: this.#options.isRunAlive }),
      workersSeenAt: { now: (this.#options.clock ?? systemClock).now(), localMachine: hostname() },
    });
  }

  /** Backs the store up into `.loki/artifacts/backups/` now; the path, or null where it cannot. */
  backUpStore(): Promise<string | null> {
    return backUpStore(this.store, this.paths, this.#options.clock ?? systemClock);
  }

  /** Backs the store up at an interval (a run does, while it goes on); see store-backups.ts. */
  scheduleStoreBackups(options: Omit<StoreBackupScheduleOptions, 'clock'>): StoreBackupSchedule {
    return scheduleStoreBackups(this.store, this.paths, {
      ...options,
      clock: this.#options.clock ?? systemClock,
    });
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export async function openWorkspace(root: string, options: OpenWorkspaceOptions): Promise<Workspace> {
  const paths = workspacePaths(root);
  const storeUrl = options.storeUrl ?? '';
  if (storeUrl === '') {
    // Before the store is opened: opening a missing or empty one would start a new, empty store.
    assertStoreNotLost(paths);
  }
  // With a PostgreSQL store the workspace still keeps its files (projections, reports) in .loki/.
  if (!existsSync(storeUrl === '' ? paths.database : paths.lokiDirectory)) {
    throw usageError('WORKSPACE_NOT_FOUND', `no Loki workspace in ${root}; run "loki init" here first`);
  }
  const redactor = options.redactor ?? createRedactor();
  const store = await openWorkspaceStore(paths, options.clock, redactor, storeUrl);
  const queue = new TaskQueue(store, options.backoff === undefined ? {} : { backoff: options.backoff });
  return new Workspace(paths, store, queue, redactor, {
    clock: options.clock,
    ...(options.isRunAlive === undefined ? {} : { isRunAlive: options.isRunAlive }),
  });
}

/**
 * The workspace's store: PostgreSQL when `storeUrl` is a URL, else its SQLite file (a corrupt one
 * names the backup to restore).
 */
export async function openWorkspaceStore(
  paths: WorkspacePaths,
  clock: Clock,
  redactor?: Redactor,
  storeUrl = '',
): Promise<Store> {
  if (storeUrl !== '') {
    const { PostgresStore } = await import('../store/postgres/postgres-store.ts');
    return PostgresStore.open(storeUrl, { clock, ...(redactor === undefined ? {} : { redactor }) });
  }
  return SqliteStore.open(paths.database, {
    clock,
    restoreAdvice: () => storeRestoreAdvice(paths, true),
    ...(redactor === undefined ? {} : { redactor }),
  });
}
