import { closeAgentTypeIds, isAgentTypeId } from '../agents/index.ts';
import { findDependencyCycle } from '../queue/index.ts';
import { formatIssuePath, formatValidationIssues } from './format-validation-issues.ts';
import type { Requirement } from './requirements-schema.ts';
import { type TaskPlan, taskPlanSchema } from './task-plan-schema.ts';

export type TaskPlanValidation = { ok: true; tasks: TaskPlan['tasks'] } | { ok: false; errors: string[] };

/**
 * Validates a proposed task DAG: the schema first, then what the schema cannot see — agent types
 * from the catalog, unique ids, dependencies that exist, no cycle, and requirement coverage in
 * both directions. Every problem is reported at once so a model can repair them in one round.
 */
export function validateTaskPlan(
  plan: unknown,
  requirements: readonly Pick<Requirement, 'id' | 'title'>[],
): TaskPlanValidation {
  const parsed = taskPlanSchema.safeParse(plan);
  if (!parsed.success) return { ok: false, errors: formatValidationIssues(parsed.error.issues) };
  const { tasks } = parsed.data;
  const errors: string[] = [];
  const at = (index: number, ...rest: PropertyKey[]) => formatIssuePath(['tasks', index, ...rest]);

  const firstIndexById = new Map<string, number>();
  tasks.forEach((task, index) => {
    const firstIndex = firstIndexById.get(task.id);
    if (firstIndex === undefined) firstIndexById.set(task.id, index);
    else
      errors.push(`${at(index, 'id')}: duplicate task id "${task.id}" (already used by ${at(firstIndex)})`);
  });

  const knownRequirementIds = new Set(requirements.map((requirement) => requirement.id));
  const coveredRequirementIds = new Set<string>();
  tasks.forEach((task, index) => {
    if (!isAgentTypeId(task.agentType)) {
      const suggestions = closeAgentTypeIds(task.agentType);
      const advice = suggestions.length === 0 ? '' : ` (did you mean ${suggestions.join(', ')}?)`;
      errors.push(`${at(index, 'agentType')}: unknown agent type "${task.agentType}"${advice}`);
    }
    task.dependencies.forEach((dependencyId, dependencyIndex) => {
      if (!firstIndexById.has(dependencyId)) {
        errors.push(`${at(index, 'dependencies', dependencyIndex)}: unknown task "${dependencyId}"`);
      }
    });
    task.requirementIds.forEach((requirementId, requirementIndex) => {
      if (knownRequirementIds.has(requirementId)) coveredRequirementIds.add(requirementId);
      else
        errors.push(`${at(index, 'requirementIds', requirementIndex)}: unknown requirement ${requirementId}`);
    });
  });

  const cycle = findDependencyCycle(tasks);
  if (cycle !== null) errors.push(`tasks: dependency cycle ${cycle.join(' -> ')}`);

  for (const requirement of requirements) {
    if (!coveredRequirementIds.has(requirement.id)) {
      errors.push(`tasks: requirement ${requirement.id} (${requirement.title}) is not covered by any task`);
    }
  }
  return errors.length === 0 ? { ok: true, tasks } : { ok: false, errors };
}
