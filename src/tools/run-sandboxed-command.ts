import type { CommandResult } from '../sandbox/index.ts';
import type { ToolContext } from './tool.ts';

/** Per stream, before the wrapper's own character limit: enough to keep a long test log's tail. */
const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024;

/** Runs a command in the worktree through the context's runner, with the context's limits. */
export function runSandboxedCommand(
  command: string,
  context: ToolContext,
  options: { timeoutMilliseconds?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<CommandResult> {
  return context.runner.run({
    command,
    cwd: context.worktree,
    writableDirectory: context.worktree,
    timeoutMilliseconds: options.timeoutMilliseconds ?? context.commandTimeoutMilliseconds,
    env: options.env ?? context.env,
    allowNetwork: context.allowNetwork,
    signal: context.signal,
    maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
    redactor: context.redactor,
  });
}
