import { z } from 'zod';
import { TASK_COMPLEXITIES } from '../agents/index.ts';
import { DELIVERY_PHASES } from './delivery-phases.ts';
import { REQUIREMENT_ID_PATTERN } from './requirements-schema.ts';

/** Task ids become branch names (`loki/<task-id>`), so they stay lower-case kebab/alphanumeric. */
export const TASK_ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MIN_TASK_PRIORITY = 1;
export const MAX_TASK_PRIORITY = 10;

const nonEmptyText = z.string().trim().min(1, { error: 'must not be empty' });
const taskId = z
  .string()
  .max(64, { error: 'must be at most 64 characters' })
  .regex(TASK_ID_PATTERN, { error: 'must be lower-case letters and digits joined by single dashes' });

export const plannedTaskSchema = z.object({
  id: taskId,
  agentType: nonEmptyText,
  title: nonEmptyText,
  description: nonEmptyText,
  acceptanceCriteria: z.array(nonEmptyText).min(1, { error: 'needs at least one acceptance criterion' }),
  requirementIds: z.array(
    z.string().regex(REQUIREMENT_ID_PATTERN, { error: 'must look like REQ-001 (REQ- and three digits)' }),
  ),
  dependencies: z.array(taskId),
  priority: z.int().min(MIN_TASK_PRIORITY).max(MAX_TASK_PRIORITY),
  complexity: z.enum(TASK_COMPLEXITIES),
  verifyCommands: z.array(nonEmptyText),
  touches: z.array(nonEmptyText),
  /** The delivery phase that runs it; by default derived from the agent type (defaultPhaseForAgentType). */
  phase: z.enum(DELIVERY_PHASES).optional(),
});

export const taskPlanSchema = z.object({
  tasks: z.array(plannedTaskSchema).min(1, { error: 'needs at least one task' }),
});

export type PlannedTask = z.output<typeof plannedTaskSchema>;
export type TaskPlan = z.output<typeof taskPlanSchema>;
