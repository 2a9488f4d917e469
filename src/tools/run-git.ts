import { findLinkedWorktree, SAFE_GIT_CONFIGURATION } from '../git/index.ts';
import { formatCommandResult } from './format-command-result.ts';
import { runSandboxedCommand } from './run-sandboxed-command.ts';
import { shellQuote } from './shell-quote.ts';
import type { ToolContext, ToolExecution } from './tool.ts';

/**
 * Runs a read-only git command for the agent, through the sandbox, on the worktree's registered
 * git directory (not on whatever `.git` a previous run_command left there) with hooks and fsmonitor
 * off: with the plain runner this git runs on the host. Optional locks are off so that reading
 * never needs write access to the repository's metadata.
 */
export async function runGit(
  gitArguments: string,
  context: ToolContext,
  emptyMessage: string,
): Promise<ToolExecution> {
  const linked = findLinkedWorktree(context.worktree);
  const location =
    linked === undefined
      ? []
      : [`--git-dir=${linked.adminDirectory}`, `--work-tree=${linked.path}`].map(shellQuote);
  const command = ['git', '--no-pager', ...location, ...SAFE_GIT_CONFIGURATION.map(shellQuote), gitArguments];
  const result = await runSandboxedCommand(command.join(' '), context, {
    env: { ...context.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' },
  });
  if (result.exitCode !== 0) return { output: `git failed: ${formatCommandResult(result)}`, isError: true };
  return { output: result.stdout.trim() === '' ? emptyMessage : result.stdout };
}
