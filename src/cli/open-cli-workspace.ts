import type { Command } from 'commander';
import type { AppContext } from '../app/index.ts';
import type { ResolvedConfig } from '../config/index.ts';
import type { Workspace } from '../workspace/index.ts';
import type { CliContext } from './cli-context.ts';

/**
 * The app context of a command: the CLI's context with the global `-c key=value` flags; the global
 * `--store URL` is `-c store=URL`, given last so that it wins.
 */
export function appContextOf(command: Command, context: CliContext): AppContext {
  const globals = command.optsWithGlobals<{ config?: string[]; store?: string }>();
  const overrides = [
    ...(globals.config ?? []),
    ...(globals.store === undefined ? [] : [`store=${globals.store}`]),
  ];
  return { cwd: context.cwd, env: context.env, clock: context.clock, configOverrides: overrides };
}

/** Effective configuration for a command: files, env and the global `-c key=value` flags. */
export async function resolveCliConfig(command: Command, context: CliContext): Promise<ResolvedConfig> {
  const { resolveAppConfig } = await import('../app/open-app-workspace.ts');
  return resolveAppConfig(appContextOf(command, context));
}

/** Opens the workspace in the current directory with the queue's backoff taken from the config. */
export async function openCliWorkspace(command: Command, context: CliContext): Promise<Workspace> {
  const { openAppWorkspace } = await import('../app/open-app-workspace.ts');
  return openAppWorkspace(appContextOf(command, context));
}
