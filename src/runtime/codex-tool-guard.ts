import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isLokiError } from '../errors/index.ts';
import type { CodexToolRefusal } from '../providers/index.ts';
import { resolveWorkspacePath } from '../tools/index.ts';

/** What one Codex task agent may do, beyond what Loki's sandbox already confines. */
export interface CodexToolPolicy {
  worktree: string;
  /** The catalog gives the role `run_command`: without it, every shell command is refused. */
  commands: boolean;
}

/**
 * What Codex hands a PreToolUse command hook on stdin (its documented hook input): the shell as
 * `Bash` with `tool_input.command`, a file edit as `apply_patch` with the raw patch in
 * `tool_input.command`, MCP tools as `mcp__server__tool`.
 */
const hookInputSchema = z.looseObject({
  hook_event_name: z.literal('PreToolUse'),
  cwd: z.string().min(1),
  tool_name: z.string().min(1),
  tool_input: z.looseObject({ command: z.unknown().optional() }).optional(),
});

/**
 * Loki's decision on one Codex tool call, made before it runs (Codex's PreToolUse hook): no shell
 * for a role without `run_command`, and no patch that writes outside the worktree (lexically,
 * through a symlink, or into .git) — the same checks and reasons as Loki's own write_file. Codex's
 * shell commands are confined by Loki's sandbox; this refuses what can be judged from the call,
 * and names the refusal, which the sandbox alone would not. Anything it cannot read is refused.
 */
export async function judgeCodexToolCall(
  payload: unknown,
  policy: CodexToolPolicy,
): Promise<CodexToolRefusal | null> {
  const parsed = hookInputSchema.safeParse(payload);
  if (!parsed.success) {
    return {
      toolName: 'unknown',
      reason: 'invalid_tool_call',
      detail: 'the tool call could not be read, so it is refused',
    };
  }
  const { tool_name: toolName, tool_input: input, cwd } = parsed.data;
  if (toolName === 'Bash') {
    if (policy.commands) return null;
    return {
      toolName,
      reason: 'tool_not_allowed',
      detail: 'this agent type may not run commands (its catalog entry has no run_command)',
    };
  }
  if (toolName !== 'apply_patch') return null;
  const patch = input?.command;
  if (typeof patch !== 'string') {
    return { toolName, reason: 'invalid_path', detail: 'apply_patch needs the patch text' };
  }
  for (const target of patchTargets(patch)) {
    const path = isAbsolute(target) ? target : resolve(cwd, target);
    try {
      await resolveWorkspacePath(policy.worktree, path, 'write');
    } catch (error) {
      // Anything but a refusal (a broken filesystem) is not the agent's doing: let it surface.
      if (!isLokiError(error) || typeof error.context.refusalReason !== 'string') throw error;
      return { toolName, reason: error.context.refusalReason, detail: error.message };
    }
  }
  return null;
}

/**
 * The files a Codex patch writes: every added, updated, deleted or moved-to path, from the
 * patch format's file headers (`*** Add File: p`, `*** Update File: p`, `*** Delete File: p`,
 * `*** Move to: p`). Written here because the format has no parser published as a library.
 */
export function patchTargets(patch: string): string[] {
  const targets: string[] = [];
  for (const line of patch.split(/\r?\n/)) {
    const match = /^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+)$/.exec(line);
    if (match?.[1] !== undefined) targets.push(match[1].trim());
  }
  return targets;
}
