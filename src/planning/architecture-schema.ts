import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isAgentTypeId } from '../agents/index.ts';
import { defaultPhaseForAgentType, DELIVERY_PHASES, type DeliveryPhase } from './delivery-phases.ts';
import { formatIssuePath, formatValidationIssues } from './format-validation-issues.ts';
import type { Requirement } from './requirements-schema.ts';
import { plannedTaskSchema, type PlannedTask } from './task-plan-schema.ts';
import { validateTaskPlan } from './validate-task-plan.ts';

const nonEmptyText = z.string().trim().min(1, { error: 'must not be empty' });

export const techChoiceSchema = z.object({
  area: nonEmptyText,
  choice: nonEmptyText,
  reason: nonEmptyText,
});

export const deploymentSchema = z.object({
  /** Starts the product from a checkout of main; it must listen on the port in `$PORT`. */
  startCommand: nonEmptyText,
  /** Answered with 2xx once the product is ready, e.g. `/health`. */
  healthPath: z.string().regex(/^\/\S*$/, { error: 'must be a path starting with "/", e.g. /health' }),
  /** Run once in each release's files before it starts (e.g. `npm ci --omit=dev`); none when absent. */
  buildCommand: nonEmptyText.optional(),
});

/**
 * What the Architecture phase produces: notes, the tech stack decision, an OpenAPI document when the
 * product has an API, the project's own verification commands (run on main by the harness), how to
 * start the product for the health check, and the task DAG.
 */
export const architectureDocumentSchema = z.object({
  notes: nonEmptyText,
  techStack: z.array(techChoiceSchema).min(1, { error: 'needs at least one decision' }),
  /** OpenAPI 3 document (YAML or JSON text), or null when the product has no HTTP API. */
  openapi: z.string().nullable(),
  /** The product's own gates, e.g. `npm test`; each must exit 0 on main for the run to be complete. */
  verifyCommands: z.array(nonEmptyText).min(1, { error: 'needs at least one command, e.g. npm test' }),
  /** Null when the product is not a service (a library, a CLI): its boot is then not checked. */
  deployment: deploymentSchema.nullable(),
  tasks: z.array(plannedTaskSchema).min(1, { error: 'needs at least one task' }),
});

export type ArchitectureDocument = z.output<typeof architectureDocumentSchema>;
export type DeploymentSettings = z.output<typeof deploymentSchema>;

export type ArchitectureValidation =
  { ok: true; architecture: ArchitectureDocument } | { ok: false; errors: string[] };

/** The phase a planned task runs in: the plan's choice, else its agent type's default. */
export function phaseOfTask(task: Pick<PlannedTask, 'agentType' | 'phase'>): DeliveryPhase {
  return task.phase ?? defaultPhaseForAgentType(task.agentType);
}

/**
 * Validates untrusted (model) output: the schema, the task DAG (agent types, unique ids, existing
 * dependencies, no cycle, every requirement covered), that no task depends on a task of a later
 * phase (phases run in order), and that the OpenAPI text parses as an OpenAPI 3 document.
 */
export function validateArchitecture(
  value: unknown,
  requirements: readonly Pick<Requirement, 'id' | 'title'>[],
): ArchitectureValidation {
  const parsed = architectureDocumentSchema.safeParse(value);
  if (!parsed.success) return { ok: false, errors: formatValidationIssues(parsed.error.issues) };
  const architecture = parsed.data;
  const plan = validateTaskPlan({ tasks: architecture.tasks }, requirements);
  const errors = plan.ok ? [] : [...plan.errors];

  const phaseById = new Map<string, DeliveryPhase>();
  for (const task of architecture.tasks) {
    if (isAgentTypeId(task.agentType)) phaseById.set(task.id, phaseOfTask(task));
  }
  architecture.tasks.forEach((task, index) => {
    const phase = phaseById.get(task.id);
    if (phase === undefined) return;
    task.dependencies.forEach((dependencyId, dependencyIndex) => {
      const dependencyPhase = phaseById.get(dependencyId);
      if (
        dependencyPhase !== undefined &&
        DELIVERY_PHASES.indexOf(dependencyPhase) > DELIVERY_PHASES.indexOf(phase)
      ) {
        errors.push(
          `${formatIssuePath(['tasks', index, 'dependencies', dependencyIndex])}: "${task.id}" runs in ${phase} but depends on "${dependencyId}", which runs later (${dependencyPhase}); phases run in order`,
        );
      }
    });
  });

  if (architecture.openapi !== null) {
    const problem = openApiProblem(architecture.openapi);
    if (problem !== null) errors.push(`openapi: ${problem}`);
  }
  return errors.length === 0 ? { ok: true, architecture } : { ok: false, errors };
}

function openApiProblem(text: string): string | null {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return `not valid YAML or JSON (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)})`;
  }
  if (typeof document !== 'object' || document === null) return 'must be an OpenAPI document (an object)';
  const record = document as Record<string, unknown>;
  if (typeof record.openapi !== 'string' || !record.openapi.startsWith('3.')) {
    return 'needs an "openapi" field with a 3.x version, e.g. openapi: 3.1.0';
  }
  if (typeof record.paths !== 'object' || record.paths === null) return 'needs a "paths" object';
  return null;
}
