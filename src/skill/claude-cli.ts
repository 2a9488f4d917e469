import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LokiError } from '../errors/index.ts';

/** The `claude` executable on the PATH of `env`, or null when Claude Code is not installed there. */
export function findClaudeExecutable(env: NodeJS.ProcessEnv): string | null {
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'claude');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory of the PATH: the next one is tried.
    }
  }
  return null;
}

/**
 * Runs `claude mcp …` (Claude Code's own way to change its user configuration, which it may keep
 * in a format of its choosing). Its arguments are Loki's own, never taken from a model.
 */
export function runClaudeMcp(claude: string, args: readonly string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(claude, ['mcp', ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  if (result.status === 0) return;
  const output =
    `${result.stderr ?? ''}${result.stdout ?? ''}`.trim() ||
    (result.error?.message ?? `exit ${String(result.status)}`);
  throw new LokiError(`claude mcp ${args.slice(0, 3).join(' ')} failed: ${output}`, {
    code: 'SKILL_CLAUDE_MCP_FAILED',
    category: 'user',
    context: { args },
  });
}
