import { describe, expect, it } from 'vitest';
import { phaseOfTask, validateArchitecture } from './architecture-schema.ts';
import { validateImprovementPlan } from './run-growth-planning.ts';

const requirements = [
  { id: 'REQ-001', title: 'Store todos' },
  { id: 'REQ-002', title: 'Serve the API' },
];

function task(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    agentType: 'eng-backend',
    title: `Task ${id}`,
    description: `Do ${id}.`,
    acceptanceCriteria: [`${id} works`],
    requirementIds: ['REQ-001'],
    dependencies: [],
    priority: 5,
    complexity: 'moderate',
    verifyCommands: ['npm test'],
    touches: [`src/${id}.js`],
    ...overrides,
  };
}

function architecture(overrides: Record<string, unknown> = {}) {
  return {
    notes: 'A small HTTP service.',
    techStack: [{ area: 'runtime', choice: 'Node.js', reason: 'no dependencies needed' }],
    openapi: 'openapi: 3.1.0\ninfo: { title: Todo, version: "1" }\npaths: {}\n',
    verifyCommands: ['npm test'],
    deployment: { startCommand: 'node src/server.js', healthPath: '/health' },
    tasks: [task('store'), task('api', { requirementIds: ['REQ-002'], dependencies: ['store'] })],
    ...overrides,
  };
}

describe('validateArchitecture', () => {
  it('accepts a complete architecture and derives phases from agent types', () => {
    const result = validateArchitecture(
      architecture({
        tasks: [task('store'), task('api', { requirementIds: ['REQ-002'], agentType: 'eng-qa' })],
      }),
      requirements,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.architecture.tasks.map(phaseOfTask)).toEqual(['development', 'qa']);
  });

  it('refuses a task that depends on a task of a later phase', () => {
    const result = validateArchitecture(
      architecture({
        tasks: [
          task('skeleton', { agentType: 'eng-infra', dependencies: ['api'] }),
          task('api', { requirementIds: ['REQ-002'] }),
        ],
      }),
      requirements,
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        'tasks[0].dependencies[0]: "skeleton" runs in infrastructure but depends on "api", which runs later (development); phases run in order',
      ],
    });
  });

  it('reports every problem at once: schema-valid but unknown agent type, uncovered requirement, bad OpenAPI', () => {
    const result = validateArchitecture(
      architecture({
        openapi: 'swagger: "2.0"\npaths: {}\n',
        tasks: [task('store', { agentType: 'eng-backedn' })],
      }),
      requirements,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'tasks[0].agentType: unknown agent type "eng-backedn" (did you mean eng-backend?)',
      'tasks: requirement REQ-002 (Serve the API) is not covered by any task',
      'openapi: needs an "openapi" field with a 3.x version, e.g. openapi: 3.1.0',
    ]);
  });

  it('names the field when the schema itself is not met', () => {
    const result = validateArchitecture(
      architecture({ verifyCommands: [], deployment: { startCommand: 'x', healthPath: 'health' } }),
      requirements,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.join('\n')).toContain('verifyCommands: needs at least one command');
    expect(result.errors.join('\n')).toContain('deployment.healthPath: must be a path starting with "/"');
  });
});

describe('validateImprovementPlan', () => {
  const document = {
    requirements: requirements.map((requirement) => ({
      ...requirement,
      description: 'd',
      acceptanceCriteria: ['a'],
      kind: 'functional' as const,
      priority: 'must' as const,
    })),
    assumptions: [],
  };

  it('accepts new tasks that build on existing ones, and an empty list', () => {
    const existing = new Set(['store']);
    expect(
      validateImprovementPlan(
        { rationale: 'r', tasks: [task('cache', { dependencies: ['store'] })] },
        document,
        existing,
      ).ok,
    ).toBe(true);
    expect(validateImprovementPlan({ rationale: 'nothing left', tasks: [] }, document, existing)).toEqual({
      ok: true,
      value: { rationale: 'nothing left', tasks: [] },
    });
  });

  it('refuses reused ids, unknown dependencies and requirements, and cycles', () => {
    const result = validateImprovementPlan(
      {
        rationale: 'r',
        tasks: [
          task('store'),
          task('a', { dependencies: ['b'], requirementIds: ['REQ-009'] }),
          task('b', { dependencies: ['a', 'ghost'] }),
        ],
      },
      document,
      new Set(['store']),
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        'tasks[0].id: "store" already exists; pick a new id',
        'tasks[1].requirementIds[0]: unknown requirement REQ-009',
        'tasks[2].dependencies[1]: unknown task "ghost"',
        'tasks: dependency cycle a -> b -> a',
      ],
    });
  });
});
