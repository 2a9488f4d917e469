import { z } from 'zod';
import { TASK_COMPLEXITIES } from '../agents/index.ts';

/** What the orchestrator keeps in a planned task's payload (the queue stores it as JSON). */
export const taskPayloadSchema = z.object({
  verifyCommands: z.array(z.string()).default([]),
  acceptanceCriteria: z.array(z.string()).default([]),
  requirementIds: z.array(z.string()).default([]),
  complexity: z.enum(TASK_COMPLEXITIES).optional(),
  touches: z.array(z.string()).default([]),
  phase: z.string().optional(),
  /** Set on a resolution task: the task whose branch it brings onto main, and why. */
  resolves: z.string().optional(),
  /** The tasks `resolves` itself was resolving, when a resolution needed resolving in turn. */
  alsoResolves: z.array(z.string()).default([]),
  resolution: z
    .object({
      outcome: z.enum(['conflict', 'verification_failed']),
      details: z.string(),
      files: z.array(z.string()).default([]),
    })
    .optional(),
});

export type TaskPayload = z.output<typeof taskPayloadSchema>;

/** Reads a payload leniently: a task added by hand (`loki queue add`) has none of these fields. */
export function readTaskPayload(payload: unknown): TaskPayload {
  const parsed = taskPayloadSchema.safeParse(payload ?? {});
  return parsed.success ? parsed.data : taskPayloadSchema.parse({});
}

/** One shell command for the RARV verification: every command, in order, stopping at the first failure. */
export function joinVerifyCommands(commands: readonly string[]): string | null {
  if (commands.length === 0) return null;
  if (commands.length === 1) return commands[0] ?? null;
  return commands.map((command) => `( ${command} )`).join(' && ');
}
