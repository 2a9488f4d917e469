import { z } from 'zod';
import { formatIssuePath, formatValidationIssues } from './format-validation-issues.ts';

export const REQUIREMENT_KINDS = ['functional', 'non-functional'] as const;
export const REQUIREMENT_PRIORITIES = ['must', 'should', 'could'] as const;
export const REQUIREMENT_ID_PATTERN = /^REQ-\d{3}$/;

const nonEmptyText = z.string().trim().min(1, { error: 'must not be empty' });

export const requirementSchema = z.object({
  id: z.string().regex(REQUIREMENT_ID_PATTERN, { error: 'must look like REQ-001 (REQ- and three digits)' }),
  title: nonEmptyText,
  description: nonEmptyText,
  acceptanceCriteria: z.array(nonEmptyText).min(1, { error: 'needs at least one acceptance criterion' }),
  kind: z.enum(REQUIREMENT_KINDS),
  priority: z.enum(REQUIREMENT_PRIORITIES),
});

/**
 * What Discovery produces. Invariant: ids are unique and consecutive from REQ-001 in list order,
 * so a requirement's id never depends on anything but its position and later phases can cite them.
 */
export const requirementsDocumentSchema = z
  .object({
    requirements: z.array(requirementSchema).min(1, { error: 'needs at least one requirement' }),
    assumptions: z.array(nonEmptyText),
  })
  .superRefine((document, context) => {
    const firstIndexById = new Map<string, number>();
    document.requirements.forEach((requirement, index) => {
      // A malformed id already has its own issue; comparing it again would only repeat the problem.
      if (!REQUIREMENT_ID_PATTERN.test(requirement.id)) return;
      const path = ['requirements', index, 'id'];
      const firstIndex = firstIndexById.get(requirement.id);
      if (firstIndex !== undefined) {
        context.addIssue({
          code: 'custom',
          path,
          message: `duplicate id ${requirement.id} (already used by ${formatIssuePath(['requirements', firstIndex])})`,
        });
        return;
      }
      firstIndexById.set(requirement.id, index);
      const expectedId = requirementId(index + 1);
      if (requirement.id !== expectedId) {
        context.addIssue({
          code: 'custom',
          path,
          message: `expected ${expectedId}, got ${requirement.id}: ids are consecutive from REQ-001 in list order`,
        });
      }
    });
  });

export type Requirement = z.output<typeof requirementSchema>;
export type RequirementsDocument = z.output<typeof requirementsDocumentSchema>;

export type RequirementsValidation =
  { ok: true; requirements: RequirementsDocument } | { ok: false; errors: string[] };

/** Validates untrusted (model) output; errors name the field and the problem, one per line. */
export function validateRequirements(value: unknown): RequirementsValidation {
  const result = requirementsDocumentSchema.safeParse(value);
  if (result.success) return { ok: true, requirements: result.data };
  return { ok: false, errors: formatValidationIssues(result.error.issues) };
}

/** `REQ-001` for 1. */
export function requirementId(position: number): string {
  return `REQ-${String(position).padStart(3, '0')}`;
}
