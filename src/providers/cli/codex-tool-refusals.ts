import { z } from 'zod';

/** A Codex tool call Loki's guard refused, as the hook records it and sandbox.refused reports it. */
export interface CodexToolRefusal {
  toolName: string;
  reason: string;
  detail: string;
}

/** The tool names Codex's PreToolUse hook is asked about: its shell and its patch tool. */
export const CODEX_GUARDED_TOOLS_MATCHER = '^(Bash|apply_patch)$';

/** The answer Codex reads from a PreToolUse hook's stdout to deny the call, with the reason shown to the model. */
export function codexHookDenial(refusal: CodexToolRefusal): string {
  return JSON.stringify({
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: `Loki refused this ${refusal.toolName} call: ${refusal.detail}`,
    },
  });
}

const refusalLineSchema = z.strictObject({
  toolName: z.string().max(200),
  reason: z.string().max(200),
  detail: z.string().max(4_000),
});

/**
 * The refusals the hook recorded, one JSON object a line. The file lies where the agent's sandbox
 * can write (the hook runs inside it), so a line is only taken when it has the exact shape the
 * hook writes; a refusal never makes Loki run anything.
 */
export function parseCodexRefusals(text: string): CodexToolRefusal[] {
  const refusals: CodexToolRefusal[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // Not one of the hook's lines (the hook writes whole lines); it is no refusal of Loki's.
      continue;
    }
    const parsed = refusalLineSchema.safeParse(value);
    if (parsed.success) refusals.push(parsed.data);
  }
  return refusals;
}
