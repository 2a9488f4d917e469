import { existsSync } from 'node:fs';
import type { Clock } from '../clock/index.ts';
import { usageError } from '../errors/index.ts';
import { type BackoffSettings, TaskQueue } from '../queue/index.ts';
import { SqliteStore, type Store, type StoreSnapshot } from '../store/index.ts';
import type { StatusReportOptions } from './status-report.ts';
import { type WorkspacePaths, workspacePaths } from './workspace-paths.ts';
import { writeProjections } from './write-projections.ts';

export interface OpenWorkspaceOptions extends StatusReportOptions {
  clock: Clock;
  backoff?: BackoffSettings;
}

/** An initialised workspace with its store open. Dispose it to close the store. */
export class Workspace implements AsyncDisposable {
  readonly paths: WorkspacePaths;
  readonly store: Store;
  readonly queue: TaskQueue;
  readonly #statusOptions: StatusReportOptions;

  constructor(
    paths: WorkspacePaths,
    store: Store,
    queue: TaskQueue,
    statusOptions: StatusReportOptions = {},
  ) {
    this.paths = paths;
    this.store = store;
    this.queue = queue;
    this.#statusOptions = statusOptions;
  }

  /** Rewrites the queue JSON files, orchestrator.json and STATUS.txt from the store. */
  refreshProjections(): Promise<StoreSnapshot> {
    return writeProjections(this.store, this.paths, this.#statusOptions);
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
  const store = await SqliteStore.open(paths.database, { clock: options.clock });
  const queue = new TaskQueue(store, options.backoff === undefined ? {} : { backoff: options.backoff });
  return new Workspace(
    paths,
    store,
    queue,
    options.isRunAlive === undefined ? {} : { isRunAlive: options.isRunAlive },
  );
}
