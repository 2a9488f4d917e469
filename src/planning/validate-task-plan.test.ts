import { describe, expect, it } from 'vitest';
import { validateTaskPlan } from './validate-task-plan.ts';

const requirements = [
  { id: 'REQ-001', title: 'List todos' },
  { id: 'REQ-002', title: 'Fast responses' },
];

function task(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    agentType: 'eng-backend',
    title: `Task ${id}`,
    description: 'Build it.',
    acceptanceCriteria: ['it works'],
    requirementIds: ['REQ-001', 'REQ-002'],
    dependencies: [],
    priority: 5,
    complexity: 'moderate',
    verifyCommands: ['npm test'],
    touches: ['src/'],
    ...overrides,
  };
}

function errorsOf(plan: unknown): string[] {
  const result = validateTaskPlan(plan, requirements);
  if (result.ok) throw new Error('expected the plan to be invalid');
  return result.errors;
}

describe('validateTaskPlan', () => {
  it('accepts a DAG that covers every requirement', () => {
    const result = validateTaskPlan(
      {
        tasks: [
          task('api', { requirementIds: ['REQ-001'] }),
          task('perf-check', { agentType: 'eng-perf', requirementIds: ['REQ-002'], dependencies: ['api'] }),
        ],
      },
      requirements,
    );
    expect(result).toMatchObject({ ok: true, tasks: [{ id: 'api' }, { id: 'perf-check' }] });
  });

  it('reports schema problems with their paths', () => {
    const errors = errorsOf({ tasks: [task('Bad_Id', { priority: 11, complexity: 'huge' })] });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBe('tasks[0].id: must be lower-case letters and digits joined by single dashes');
    expect(errors[1]).toMatch(/^tasks\[0\]\.priority: /);
    expect(errors[2]).toMatch(/^tasks\[0\]\.complexity: .*"trivial"/);
  });

  it('rejects an unknown agent type and suggests close ones', () => {
    expect(errorsOf({ tasks: [task('api', { agentType: 'backend' })] })).toEqual([
      'tasks[0].agentType: unknown agent type "backend" (did you mean eng-backend?)',
    ]);
  });

  it('rejects duplicate task ids', () => {
    expect(errorsOf({ tasks: [task('api'), task('api')] })).toEqual([
      'tasks[1].id: duplicate task id "api" (already used by tasks[0])',
    ]);
  });

  it('rejects a dependency on an unknown task', () => {
    expect(errorsOf({ tasks: [task('api', { dependencies: ['schema'] })] })).toEqual([
      'tasks[0].dependencies[0]: unknown task "schema"',
    ]);
  });

  it('rejects a cycle and reports its path', () => {
    expect(
      errorsOf({
        tasks: [
          task('a', { dependencies: ['c'] }),
          task('b', { dependencies: ['a'] }),
          task('c', { dependencies: ['b'] }),
        ],
      }),
    ).toEqual(['tasks: dependency cycle a -> c -> b -> a']);
  });

  it('rejects an uncovered requirement', () => {
    expect(errorsOf({ tasks: [task('api', { requirementIds: ['REQ-001'] })] })).toEqual([
      'tasks: requirement REQ-002 (Fast responses) is not covered by any task',
    ]);
  });

  it('rejects a reference to an unknown requirement', () => {
    expect(errorsOf({ tasks: [task('api', { requirementIds: ['REQ-001', 'REQ-002', 'REQ-009'] })] })).toEqual(
      ['tasks[0].requirementIds[2]: unknown requirement REQ-009'],
    );
  });
});
