import { loadConfig, parseConfigOverrides, type ResolvedConfig } from '../config/index.ts';
// By their own files: the orchestrator's, queue's and workspace's barrels load the whole pipeline
// (every provider SDK, the PostgreSQL driver), which the short commands that come here never use.
import { readRunLock } from '../orchestrator/run-lock.ts';
import { DEFAULT_BACKOFF } from '../queue/backoff.ts';
import { createRedactor } from '../sandbox/redactor.ts';
import { openWorkspace, type Workspace } from '../workspace/open-workspace.ts';
import { workspacePaths } from '../workspace/workspace-paths.ts';
import type { AppContext } from './app-context.ts';

/** Effective configuration of a call: files, environment, then the call's `-c key=value` overrides. */
export function resolveAppConfig(context: AppContext): ResolvedConfig {
  return loadConfig({
    workspaceRoot: context.cwd,
    env: context.env,
    overrides: parseConfigOverrides([...(context.configOverrides ?? [])]),
  });
}

/** Opens the workspace in `context.cwd` with the queue's backoff taken from the configuration. */
export async function openAppWorkspace(context: AppContext): Promise<Workspace> {
  const config = resolveAppConfig(context).values;
  return openWorkspace(context.cwd, {
    clock: context.clock,
    isRunAlive: runLiveness(context.cwd),
    backoff: { ...DEFAULT_BACKOFF, baseSeconds: config.baseWait, maxSeconds: config.maxWait },
    // The values of the keys in the environment are secrets in every file and event.
    redactor: createRedactor({ env: context.env }),
    storeUrl: config.store,
  });
}

/** Whether a run of the workspace at `root` is alive: its process holds the run lock. */
export function runLiveness(root: string): (runId: string) => boolean {
  const lockFile = workspacePaths(root).runLockFile;
  return (runId) => {
    const holder = readRunLock(lockFile);
    return holder !== null && holder.isAlive && holder.owner.runId === runId;
  };
}
