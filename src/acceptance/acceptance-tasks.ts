import { phaseOfTask, type PlannedTask } from '../planning/index.ts';

/** The agent type that writes (and alone may change) sealed acceptance tests. */
export const QA_AGENT_TYPE = 'eng-qa';

export type PlannedTaskWithAcceptance = PlannedTask & {
  /** Set on a QA task that writes the acceptance tests of this implementation task. */
  acceptanceFor?: string;
};

/** Implementation work: the engineering agents that build the product, in Development. */
export function needsAcceptanceTests(task: PlannedTask): boolean {
  return (
    task.agentType.startsWith('eng-') &&
    task.agentType !== QA_AGENT_TYPE &&
    task.agentType !== 'eng-infra' &&
    phaseOfTask(task) === 'development'
  );
}

export function acceptanceTaskId(taskId: string): string {
  // Task ids are at most 64 characters; the suffix must fit.
  return `${taskId.slice(0, 64 - '-acceptance'.length).replace(/-$/, '')}-acceptance`;
}

/**
 * The plan with a QA task before each implementation task: it writes the task's acceptance tests
 * from its acceptance criteria and requirement IDs, starts when the implementation could (same
 * dependencies), and the implementation task waits for it.
 */
export function withAcceptanceTasks(planned: readonly PlannedTask[]): PlannedTaskWithAcceptance[] {
  const ids = new Set(planned.map((task) => task.id));
  const tasks: PlannedTaskWithAcceptance[] = [];
  for (const task of planned) {
    const qaId = acceptanceTaskId(task.id);
    if (!needsAcceptanceTests(task) || ids.has(qaId)) {
      tasks.push(task);
      continue;
    }
    tasks.push(acceptanceTask(task, qaId), { ...task, dependencies: [...task.dependencies, qaId] });
  }
  return tasks;
}

function acceptanceTask(task: PlannedTask, qaId: string): PlannedTaskWithAcceptance {
  return {
    id: qaId,
    agentType: QA_AGENT_TYPE,
    title: `Acceptance tests for ${task.id}: ${task.title}`,
    description: [
      `Write the acceptance tests of task ${task.id} ("${task.title}") BEFORE it is implemented. Do not implement it.`,
      `What it must do: ${task.description}`,
      'Write one test (or more) per acceptance criterion below, in test files named like the project',
      "already names them (e.g. test/<topic>.test.js), and put the requirement ID at the start of each test's name,",
      `e.g. "${task.requirementIds[0] ?? 'REQ-001'} …" (test_req_001_… where a name cannot hold a dash).`,
      'Every test must assert something; none may be skipped or focused. The tests are expected to fail',
      `until ${task.id} is done. Loki seals them: the implementing agent receives them and may not change them.`,
    ].join('\n'),
    acceptanceCriteria: task.acceptanceCriteria,
    requirementIds: task.requirementIds,
    dependencies: task.dependencies,
    priority: task.priority,
    complexity: 'simple',
    verifyCommands: [],
    touches: [],
    phase: phaseOfTask(task),
    acceptanceFor: task.id,
  };
}
