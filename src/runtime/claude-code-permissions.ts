import { isLokiError } from '../errors/index.ts';
import type { ClaudeCodeToolRefusal, LokiMcpTool } from '../providers/index.ts';
import { resolveWorkspacePath, taskCompleteTool } from '../tools/index.ts';

/**
 * Claude Code's built-in tools for each of Loki's tool permissions. A role's catalog entry decides
 * what its Claude Code session may use: no `run_command`, no Bash. git_status and git_diff have no
 * built-in of their own (Claude Code runs git through Bash), and list_dir is covered by Glob.
 */
const CLAUDE_CODE_TOOLS_BY_LOKI_TOOL: Readonly<Record<string, readonly string[]>> = {
  read_file: ['Read'],
  write_file: ['Write'],
  edit_file: ['Edit', 'MultiEdit', 'NotebookEdit'],
  list_dir: ['Glob'],
  glob: ['Glob'],
  grep: ['Grep'],
  run_command: ['Bash'],
};

/** The built-in Claude Code tools an agent type with these Loki tools gets (in a stable order). */
export function claudeCodeToolsFor(lokiTools: readonly string[]): string[] {
  return [...new Set(lokiTools.flatMap((name) => CLAUDE_CODE_TOOLS_BY_LOKI_TOOL[name] ?? []))];
}

/** The path each of Claude Code's file-writing tools writes to, by its input field. */
const WRITE_PATH_FIELDS: Readonly<Record<string, string>> = {
  Write: 'file_path',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};

/**
 * Refuses Claude Code's file writes that leave the worktree (lexically, through a symlink, or into
 * .git), with the same checks and reasons as Loki's own write_file. The sandbox confines Bash;
 * this confines the file tools even where no sandbox runs.
 */
export function confineWritesToWorktree(
  worktree: string,
): (call: { toolName: string; input: unknown }) => Promise<ClaudeCodeToolRefusal | null> {
  return async (call) => {
    const field = WRITE_PATH_FIELDS[call.toolName];
    if (field === undefined) return null;
    const path = (call.input as Record<string, unknown> | null)?.[field];
    if (typeof path !== 'string' || path === '') {
      return {
        reason: 'invalid_path',
        detail: `${call.toolName} needs ${field}, a path inside the worktree`,
      };
    }
    try {
      await resolveWorkspacePath(worktree, path, 'write');
      return null;
    } catch (error) {
      // Anything but a refusal (a broken filesystem) is not the agent's doing: let it surface.
      if (!isLokiError(error) || typeof error.context.refusalReason !== 'string') throw error;
      return { reason: error.context.refusalReason, detail: error.message };
    }
  };
}

/** Loki's task_complete for Claude Code: validated like the API path's; the harness then verifies. */
export function taskCompleteMcpTool(): LokiMcpTool {
  return {
    name: taskCompleteTool.name,
    description: taskCompleteTool.description,
    inputSchema: taskCompleteTool.inputSchema,
    handle: (input) => {
      const parsed = taskCompleteTool.inputSchema.safeParse(input);
      if (!parsed.success) {
        return Promise.resolve({
          isError: true,
          output: `task_complete needs summary, files_changed and tests_run: ${parsed.error.message}`,
        });
      }
      return Promise.resolve({
        isError: false,
        output: 'Task marked complete; finish your turn now and the harness will verify the work.',
      });
    },
  };
}
