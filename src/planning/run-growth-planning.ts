import { z } from 'zod';
import { AGENT_CATALOG, closeAgentTypeIds, isAgentTypeId } from '../agents/index.ts';
import { findDependencyCycle } from '../queue/index.ts';
import { formatIssuePath, formatValidationIssues } from './format-validation-issues.ts';
import type { RequirementsDocument } from './requirements-schema.ts';
import { submissionRunOptions, type SubmissionRunner, type SubmissionRunOptions } from './submission-spec.ts';
import { type PlannedTask, plannedTaskSchema } from './task-plan-schema.ts';

export const SUBMIT_IMPROVEMENTS_TOOL = 'submit_improvements';

export const improvementPlanSchema = z.object({
  /** Why these improvements, in a few sentences; what was learned from the product so far. */
  rationale: z.string().trim().min(1, { error: 'must not be empty' }),
  /** Empty when there is nothing worth doing: perpetual mode then ends. */
  tasks: z.array(plannedTaskSchema),
});
export type ImprovementPlan = z.output<typeof improvementPlanSchema>;

export interface RunGrowthPlanningOptions extends SubmissionRunOptions {
  /** The provider's way of running a planning agent (see AgentSource.runSubmission). */
  runSubmission: SubmissionRunner;
  prdText: string;
  requirements: RequirementsDocument;
  iteration: number;
  /** Every task the workspace already has (done or not): new ids must differ, dependencies may point at them. */
  existingTasks: readonly { id: string; title: string; status: string }[];
}

/**
 * Validates a Growth iteration's proposal: the task schema, known agent types, new unique ids,
 * dependencies on new or existing tasks, no cycle, requirement ids that exist (improvements need not
 * cover every requirement).
 */
export function validateImprovementPlan(
  value: unknown,
  requirements: RequirementsDocument,
  existingTaskIds: ReadonlySet<string>,
): { ok: true; value: ImprovementPlan } | { ok: false; errors: string[] } {
  const parsed = improvementPlanSchema.safeParse(value);
  if (!parsed.success) return { ok: false, errors: formatValidationIssues(parsed.error.issues) };
  const errors: string[] = [];
  const at = (index: number, ...rest: PropertyKey[]) => formatIssuePath(['tasks', index, ...rest]);
  const newIds = new Set<string>();
  const requirementIds = new Set(requirements.requirements.map((requirement) => requirement.id));
  parsed.data.tasks.forEach((task, index) => {
    if (existingTaskIds.has(task.id))
      errors.push(`${at(index, 'id')}: "${task.id}" already exists; pick a new id`);
    else if (newIds.has(task.id)) errors.push(`${at(index, 'id')}: duplicate task id "${task.id}"`);
    newIds.add(task.id);
    if (!isAgentTypeId(task.agentType)) {
      const suggestions = closeAgentTypeIds(task.agentType);
      errors.push(
        `${at(index, 'agentType')}: unknown agent type "${task.agentType}"${suggestions.length === 0 ? '' : ` (did you mean ${suggestions.join(', ')}?)`}`,
      );
    }
    task.requirementIds.forEach((id, requirementIndex) => {
      if (!requirementIds.has(id))
        errors.push(`${at(index, 'requirementIds', requirementIndex)}: unknown requirement ${id}`);
    });
  });
  parsed.data.tasks.forEach((task, index) => {
    task.dependencies.forEach((dependency, dependencyIndex) => {
      if (!newIds.has(dependency) && !existingTaskIds.has(dependency)) {
        errors.push(`${at(index, 'dependencies', dependencyIndex)}: unknown task "${dependency}"`);
      }
    });
  });
  const cycle = findDependencyCycle(parsed.data.tasks);
  if (cycle !== null) errors.push(`tasks: dependency cycle ${cycle.join(' -> ')}`);
  return errors.length === 0 ? { ok: true, value: parsed.data } : { ok: false, errors };
}

export const GROWTH_SYSTEM_PROMPT = [
  'You are the product strategist of Loki Mode, in the Growth phase (perpetual improvement).',
  'The product of the PRD is built, merged and verified. Propose the next few improvements that matter most:',
  'quality, performance, documentation, onboarding, growth experiments; small, verifiable tasks.',
  `Submit them by calling ${SUBMIT_IMPROVEMENTS_TOOL} once with a rationale and the tasks (same fields as the`,
  'architecture plan: id, agentType, title, description, acceptanceCriteria, requirementIds, dependencies,',
  'priority, complexity, verifyCommands, touches). Submit an empty task list when nothing is worth doing.',
].join('\n');

/** One Growth iteration's planning: a planning agent proposes improvement tasks; the harness validates them. */
export async function runGrowthPlanning(options: RunGrowthPlanningOptions): Promise<PlannedTask[]> {
  const existingTaskIds = new Set(options.existingTasks.map((task) => task.id));
  const catalog = AGENT_CATALOG.filter((type) => type.swarm !== 'review' && type.swarm !== 'orchestration')
    .map((type) => `- ${type.id}: ${type.title}`)
    .join('\n');
  const prompt = [
    `Growth iteration ${options.iteration}.`,
    `PRD:\n\n${options.prdText}`,
    `Requirements:\n${options.requirements.requirements.map((requirement) => `- ${requirement.id}: ${requirement.title}`).join('\n')}`,
    `Tasks so far:\n${options.existingTasks.map((task) => `- ${task.id} (${task.status}): ${task.title}`).join('\n')}`,
    `Agent types:\n${catalog}`,
  ].join('\n\n---\n\n');
  const plan = await options.runSubmission(
    {
      phase: 'Growth',
      codePrefix: 'GROWTH',
      toolName: SUBMIT_IMPROVEMENTS_TOOL,
      toolDescription:
        'Submit the improvement tasks of this Growth iteration (an empty list ends perpetual mode).',
      inputSchema: improvementPlanSchema,
      system: GROWTH_SYSTEM_PROMPT,
      prompt,
      validate: (input) => validateImprovementPlan(input, options.requirements, existingTaskIds),
      describe: (value) => `${value.tasks.length} improvement tasks`,
      advice: 'Perpetual mode needs a planning model that follows the tool schema.',
      checkedAgainst: { requirements: options.requirements, existingTaskIds: [...existingTaskIds] },
    },
    submissionRunOptions(options),
  );
  return plan.tasks;
}
