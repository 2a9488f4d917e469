import { existsSync } from 'node:fs';
import type { Clock } from '../clock/index.ts';
import { usageError } from '../errors/index.ts';
import { type BackoffSettings, TaskQueue } from '../queue/index.ts';
import { createRedactor, type Redactor } from '../sandbox/index.ts';
import { SqliteStore, type Store, type StoreSnapshot } from '../store/index.ts';
import { type WorkspacePaths, workspacePaths } from './workspace-paths.ts';
import { writeProjections } from './write-projections.ts';

export interface OpenWorkspaceOptions {
  clock: Clock;
  backoff?: BackoffSettings;
  /**
   * Replaces secrets in everything the workspace writes: the store (events, task errors and
   * results), CONTINUITY.md and reports. Build it from the process environment
   * (`createRedactor({ env })`) so that the values of the configured keys are known; the default
   * knows only well-known token shapes.
   */
  redactor?: Redactor;
}

/** An initialised workspace with its store open. Dispose it to close the store. */
export class Workspace implements AsyncDisposable {
  readonly paths: WorkspacePaths;
  readonly store: Store;
  readonly queue: TaskQueue;
  /** For every file the workspace's users write under .loki/ (the store redacts by itself). */
  readonly redactor: Redactor;

  constructor(paths: WorkspacePaths, store: Store, queue: TaskQueue, redactor: Redactor) {
    this.paths = paths;
    this.store = store;
    this.queue = queue;
    this.redactor = redactor;
  }

  /** Rewrites the queue JSON files, orchestrator.json and STATUS.txt from the store. */
  refreshProjections(): Promise<StoreSnapshot> {
    return writeProjections(this.store, this.paths);
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
  if (!existsSync(paths.database)) {
    throw usageError('WORKSPACE_NOT_FOUND', `no Loki workspace in ${root}; run "loki init" here first`);
  }
  const redactor = options.redactor ?? createRedactor();
  const store = await SqliteStore.open(paths.database, { clock: options.clock, redactor });
  const queue = new TaskQueue(store, options.backoff === undefined ? {} : { backoff: options.backoff });
  return new Workspace(paths, store, queue, redactor);
}
