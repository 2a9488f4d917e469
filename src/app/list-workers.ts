import { groupWorkersByMachine, type MachineReport } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace } from './open-app-workspace.ts';

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
  await using workspace = await openAppWorkspace(context);
  const now = context.clock.now();
  const all = groupWorkersByMachine(await workspace.store.listWorkers(), now);
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
  return { store: workspace.store.location, at: new Date(now).toISOString(), machines, stopped };
}
