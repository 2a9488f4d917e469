import { z } from 'zod';
import { TASK_COMPLEXITIES } from '../agents/index.ts';
import { LokiError } from '../errors/index.ts';
import type { Task } from '../store/index.ts';

/** What the orchestrator keeps in a planned task's payload (the queue stores it as JSON). */
export const taskPayloadSchema = z.object({
  verifyCommands: z.array(z.string()).default([]),
  acceptanceCriteria: z.array(z.string()).default([]),
  requirementIds: z.array(z.string()).default([]),
  complexity: z.enum(TASK_COMPLEXITIES).optional(),
  touches: z.array(z.string()).default([]),
  phase: z.string().optional(),
  /** Set on a QA task that writes the sealed acceptance tests of this implementation task. */
  acceptanceFor: z.string().optional(),
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

/**
 * A task's payload. None at all (a task added with `loki queue add`) and keys Loki does not use are
 * fine: such a task simply has nothing of its own. A payload whose fields Loki uses are of the
 * wrong shape is an error naming the task: reading it as empty would silently drop its verify
 * commands, and unverified work would pass.
 */
export function readTaskPayload(task: Pick<Task, 'id' | 'payload'>): TaskPayload {
  const parsed = taskPayloadSchema.safeParse(task.payload ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') || '(the payload itself)';
  throw new LokiError(
    `task ${task.id} has a malformed payload: ${field}: ${issue?.message ?? 'invalid'}; fix it (e.g. verifyCommands must be a list of shell commands) and add the task again`,
    { code: 'TASK_PAYLOAD_INVALID', category: 'user', context: { taskId: task.id, field } },
  );
}

/** The payload for a report: null where it is malformed (the task itself failed with the reason). */
export function readTaskPayloadForReport(task: Pick<Task, 'id' | 'payload'>): TaskPayload | null {
  const parsed = taskPayloadSchema.safeParse(task.payload ?? {});
  return parsed.success ? parsed.data : null;
}

/**
 * What verifies a task's own work: its verify commands, or, when it has none, the project's gates
 * (the architecture's verifyCommands). Empty only when there is neither: the work is then not
 * proven, never passed.
 */
export function taskVerifyCommands(payload: TaskPayload, projectGates: readonly string[]): readonly string[] {
  return payload.verifyCommands.length > 0 ? payload.verifyCommands : projectGates;
}
