import { requirementId } from '../../src/planning/requirements-schema.ts';

/** A valid requirement numbered `position` (REQ-00n), with any field replaced by `overrides`. */
export function requirement(position: number, overrides: Record<string, unknown> = {}) {
  return {
    id: requirementId(position),
    title: `Requirement ${position}`,
    description: `The product does thing ${position}.`,
    acceptanceCriteria: [`thing ${position} can be observed`],
    kind: 'functional',
    priority: 'must',
    ...overrides,
  };
}
