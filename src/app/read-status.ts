import { hostname } from 'node:os';
import { buildStatusReport, type StatusReport } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace, runLiveness } from './open-app-workspace.ts';

/**
 * Phase, agents and queue counts of the workspace (the figures of .loki/STATUS.txt). Read-only:
 * it never changes the store, so it is safe at any time, also while a run goes on.
 */
export async function readStatus(context: AppContext): Promise<StatusReport> {
  await using workspace = await openAppWorkspace(context);
  const summary = await workspace.store.readSummary();
  return buildStatusReport(workspace.paths.root, summary, {
    isRunAlive: runLiveness(workspace.paths.root),
    workers: {
      records: await workspace.store.listWorkers(),
      now: context.clock.now(),
      localMachine: hostname(),
    },
  });
}
