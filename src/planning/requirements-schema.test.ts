import { describe, expect, it } from 'vitest';
import { validateRequirements } from './requirements-schema.ts';
import { requirement } from '../../test/support/requirement-fixture.ts';

function errorsOf(value: unknown): string[] {
  const result = validateRequirements(value);
  if (result.ok) throw new Error('expected the requirements to be invalid');
  return result.errors;
}

describe('validateRequirements', () => {
  it('accepts consecutive ids from REQ-001 with assumptions', () => {
    const result = validateRequirements({
      requirements: [requirement(1), requirement(2, { kind: 'non-functional', priority: 'could' })],
      assumptions: ['single user'],
    });
    expect(result).toMatchObject({ ok: true, requirements: { assumptions: ['single user'] } });
    if (result.ok) expect(result.requirements.requirements.map((r) => r.id)).toEqual(['REQ-001', 'REQ-002']);
  });

  it('rejects a malformed id with its path', () => {
    expect(errorsOf({ requirements: [requirement(1, { id: 'REQ-1' })], assumptions: [] })).toEqual([
      'requirements[0].id: must look like REQ-001 (REQ- and three digits)',
    ]);
  });

  it('rejects duplicate and non-consecutive ids', () => {
    expect(
      errorsOf({
        requirements: [requirement(1), requirement(1), requirement(3, { id: 'REQ-004' })],
        assumptions: [],
      }),
    ).toEqual([
      'requirements[1].id: duplicate id REQ-001 (already used by requirements[0])',
      'requirements[2].id: expected REQ-003, got REQ-004: ids are consecutive from REQ-001 in list order',
    ]);
  });

  it('rejects ids that do not start at REQ-001', () => {
    expect(errorsOf({ requirements: [requirement(2)], assumptions: [] })[0]).toContain(
      'expected REQ-001, got REQ-002',
    );
  });

  it('needs at least one acceptance criterion, a known kind and priority, and assumptions', () => {
    const errors = errorsOf({
      requirements: [requirement(1, { acceptanceCriteria: [], kind: 'other', priority: "won't" })],
    });
    expect(errors).toHaveLength(4);
    expect(errors[0]).toBe('requirements[0].acceptanceCriteria: needs at least one acceptance criterion');
    expect(errors[1]).toMatch(/^requirements\[0\]\.kind: .*"functional"\|"non-functional"/);
    expect(errors[2]).toMatch(/^requirements\[0\]\.priority: /);
    expect(errors[3]).toMatch(/^assumptions: /);
  });

  it('rejects blank text, an empty list and input that is not an object', () => {
    expect(errorsOf({ requirements: [requirement(1, { title: '  ' })], assumptions: [] })).toEqual([
      'requirements[0].title: must not be empty',
    ]);
    expect(errorsOf({ requirements: [], assumptions: [] })).toEqual([
      'requirements: needs at least one requirement',
    ]);
    expect(errorsOf('not json')[0]).toMatch(/^\(root\): /);
  });
});
