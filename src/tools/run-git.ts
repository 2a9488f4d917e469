import { formatCommandResult } from './format-command-result.ts';
import { runSandboxedCommand } from './run-sandboxed-command.ts';
import type { ToolContext, ToolExecution } from './tool.ts';

/**
 * Runs a read-only git command through the sandbox (git runs hooks and fsmonitor commands from
 * repository config, which a previous run_command may have written). Optional locks are off so
 * that reading never needs write access to the repository's metadata.
 */
export async function runGit(
  gitArguments: string,
  context: ToolContext,
  emptyMessage: string,
): Promise<ToolExecution> {
  const result = await runSandboxedCommand(`git --no-pager ${gitArguments}`, context, {
    env: { ...context.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' },
  });
  if (result.exitCode !== 0) return { output: `git failed: ${formatCommandResult(result)}`, isError: true };
  return { output: result.stdout.trim() === '' ? emptyMessage : result.stdout };
}
