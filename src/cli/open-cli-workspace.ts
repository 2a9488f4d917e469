import type { Command } from 'commander';
import { loadConfig, parseConfigOverrides, type ResolvedConfig } from '../config/index.ts';
import { readRunLock } from '../orchestrator/index.ts';
import { DEFAULT_BACKOFF } from '../queue/index.ts';
import { createRedactor } from '../sandbox/index.ts';
import { openWorkspace, type Workspace, workspacePaths } from '../workspace/index.ts';
import type { CliContext } from './cli-context.ts';

/** Effective configuration for a command: files, env and the global `-c key=value` flags. */
export function resolveCliConfig(command: Command, context: CliContext): ResolvedConfig {
  const globals = command.optsWithGlobals<{ config?: string[] }>();
  return loadConfig({
    workspaceRoot: context.cwd,
    env: context.env,
    overrides: parseConfigOverrides(globals.config ?? []),
  });
}

/** Opens the workspace in the current directory with the queue's backoff taken from the config. */
export async function openCliWorkspace(command: Command, context: CliContext): Promise<Workspace> {
  const config = resolveCliConfig(command, context).values;
  return openWorkspace(context.cwd, {
    clock: context.clock,
    isRunAlive: runLiveness(context.cwd),
    backoff: { ...DEFAULT_BACKOFF, baseSeconds: config.baseWait, maxSeconds: config.maxWait },
    // The values of the keys in the environment are secrets in every file and event.
    redactor: createRedactor({ env: context.env }),
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
