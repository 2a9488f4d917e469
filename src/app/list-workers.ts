import type { Store } from '../store/index.ts';
import {
  groupWorkersByMachine,
  type MachineReport,
  openWorkspaceStore,
  workspacePaths,
} from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace, resolveAppConfig } from './open-app-workspace.ts';

export interface WorkersJson {
  /** Where the registry is: the store's location (a PostgreSQL URL without its password). */
  store: string;
  /** When the heartbeat ages were taken (ISO 8601). */
  at: string;
  /** By machine. Without `all`, only the processes that run now or are lost (not stopped). */
  machines: MachineReport[];
  /** Processes that said they stopped, listed only with `all`. */
  stopped: number;
}

/**
 * `loki workers`: the Loki processes working on the workspace's store (the run, and `loki worker`
 * processes on any machine) by machine, each with its last heartbeat. Read-only.
 */
export async function listWorkers(
  context: AppContext,
  options: { all?: boolean } = {},
): Promise<WorkersJson> {
  await using registry = await openRegistry(context);
  const now = context.clock.now();
  const all = groupWorkersByMachine(await registry.store.listWorkers(), now);
  const stopped = all.reduce(
    (count, machine) => count + machine.workers.filter((worker) => worker.state === 'stopped').length,
    0,
  );
  const machines =
    options.all === true
      ? all
      : all
          .map((machine) => ({
            ...machine,
            workers: machine.workers.filter((worker) => worker.state !== 'stopped'),
          }))
          .filter((machine) => machine.workers.length > 0);
  return { store: registry.store.location, at: new Date(now).toISOString(), machines, stopped };
}

/**
 * The store that holds the registry. A PostgreSQL store is read directly, so that any machine can
 * list the workers, with or without a workspace there; SQLite is the workspace's own file.
 */
async function openRegistry(context: AppContext): Promise<{ store: Store } & AsyncDisposable> {
  const storeUrl = resolveAppConfig(context).values.store;
  if (storeUrl === '') return openAppWorkspace(context);
  const store = await openWorkspaceStore(workspacePaths(context.cwd), context.clock, undefined, storeUrl);
  return { store, [Symbol.asyncDispose]: () => store.close() };
}
