import { describe, expect, it } from 'vitest';
import type { PlannedTask } from '../planning/index.ts';
import { acceptanceTaskId, withAcceptanceTasks } from './acceptance-tasks.ts';

function planned(overrides: Partial<PlannedTask> & Pick<PlannedTask, 'id' | 'agentType'>): PlannedTask {
  return {
    title: `Task ${overrides.id}`,
    description: 'Build it.',
    acceptanceCriteria: ['POST /todos returns 201 with the todo'],
    requirementIds: ['REQ-001'],
    dependencies: [],
    priority: 5,
    complexity: 'moderate',
    verifyCommands: ['npm test'],
    touches: [],
    ...overrides,
  };
}

describe('withAcceptanceTasks', () => {
  it('puts a QA task before each Development implementation task, which waits for it', () => {
    const tasks = withAcceptanceTasks([
      planned({ id: 'skeleton', agentType: 'eng-infra', requirementIds: [] }),
      planned({
        id: 'add-todo',
        agentType: 'eng-backend',
        dependencies: ['skeleton'],
        requirementIds: ['REQ-001', 'REQ-002'],
      }),
      planned({ id: 'more-tests', agentType: 'eng-qa', dependencies: ['add-todo'] }),
    ]);

    expect(tasks.map((task) => [task.id, task.agentType, task.dependencies])).toEqual([
      ['skeleton', 'eng-infra', []],
      ['add-todo-acceptance', 'eng-qa', ['skeleton']],
      ['add-todo', 'eng-backend', ['skeleton', 'add-todo-acceptance']],
      ['more-tests', 'eng-qa', ['add-todo']],
    ]);
    const qa = tasks[1];
    expect(qa).toMatchObject({
      acceptanceFor: 'add-todo',
      acceptanceCriteria: ['POST /todos returns 201 with the todo'],
      requirementIds: ['REQ-001', 'REQ-002'],
      verifyCommands: [],
      phase: 'development',
    });
    expect(qa?.description).toMatch(/requirement ID at the start of each test's name/);
    expect(qa?.description).toMatch(/"REQ-001 …"/);
  });

  it('keeps generated ids within the 64 characters a task id may have', () => {
    const id = acceptanceTaskId(`${'a'.repeat(60)}-b`);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});
