import { LOKI_ENTRY_POINT } from '../workspace/index.ts';
import { taskCompleteTool } from '../tools/index.ts';
import type { LokiAgentToolName } from './loki-agent-tools.ts';

/** The completion an accepted `task_complete` call reports. */
export interface AcceptedTaskCompletion {
  summary: string;
  filesChanged: string[];
  testsRun: string[];
}

/**
 * How an agent CLI starts Loki's tools for one session: this Node running this installation's
 * `loki mcp-tools`, so the server is the same version as the run that configured it. A context
 * file (absolute) holds what submissions are checked against (see lokiToolContextSchema).
 */
export function lokiToolsCommand(
  tools: readonly LokiAgentToolName[],
  options: { contextFile?: string } = {},
): {
  command: string;
  arguments: string[];
} {
  return {
    command: process.execPath,
    arguments: [
      LOKI_ENTRY_POINT,
      'mcp-tools',
      '--tools',
      tools.join(','),
      ...(options.contextFile === undefined ? [] : ['--context', options.contextFile]),
    ],
  };
}

/**
 * Checks a `task_complete` call that an agent CLI reported, in Loki's own process: the MCP
 * server's answer travels through the agent and never decides on its own.
 */
export function acceptTaskCompleteInput(input: unknown): AcceptedTaskCompletion | null {
  const parsed = taskCompleteTool.inputSchema.safeParse(input);
  if (!parsed.success) return null;
  return {
    summary: parsed.data.summary,
    filesChanged: parsed.data.files_changed,
    testsRun: parsed.data.tests_run,
  };
}

/**
 * How Codex starts Loki's guard (its PreToolUse hook) for one task agent: this Node running this
 * installation's `loki codex-tool-guard`, so the hook is the same version as the run. `commands`:
 * the role has run_command; refusals are recorded in `refusalsFile`.
 */
export function codexToolGuardCommand(
  policy: { worktree: string; commands: boolean },
  refusalsFile: string,
): { command: string; arguments: string[]; refusalsFile: string } {
  return {
    command: process.execPath,
    arguments: [
      LOKI_ENTRY_POINT,
      'codex-tool-guard',
      '--worktree',
      policy.worktree,
      '--refusals',
      refusalsFile,
      ...(policy.commands ? [] : ['--no-commands']),
    ],
    refusalsFile,
  };
}
