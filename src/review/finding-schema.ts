import { z } from 'zod';
import { formatIssuePath, formatValidationIssues } from '../planning/index.ts';

/** Most to least severe. The first three block the merge; the last two become comments in the code. */
export const REVIEW_SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Cosmetic'] as const;
export type ReviewSeverity = (typeof REVIEW_SEVERITIES)[number];

export const BLOCKING_SEVERITIES: ReadonlySet<ReviewSeverity> = new Set(['Critical', 'High', 'Medium']);

export function isBlocking(severity: ReviewSeverity): boolean {
  return BLOCKING_SEVERITIES.has(severity);
}

const text = z.string().trim().min(1, { error: 'must not be empty' });

export const reviewFindingSchema = z.strictObject({
  severity: z.enum(REVIEW_SEVERITIES, {
    error: `expected one of ${REVIEW_SEVERITIES.join(', ')}`,
  }),
  /** A path relative to the repository root, one of the files the diff changes. */
  file: text.max(500),
  /** The line in the file as it is after the change (1-based). */
  line: z.int({ error: 'expected a line number (a whole number from 1)' }).min(1),
  message: text.max(2000),
  suggestedFix: text.max(2000),
});
export type ReviewFinding = z.output<typeof reviewFindingSchema>;

export const reviewSubmissionSchema = z.strictObject({
  /** One or two sentences: what the reviewer looked at and its overall judgement. */
  summary: text.max(2000),
  /** Empty when the reviewer approves the change as it is. */
  findings: z.array(reviewFindingSchema).max(50, { error: 'at most 50 findings; keep the most important' }),
});
export type ReviewSubmission = z.output<typeof reviewSubmissionSchema>;

/**
 * The schema, plus what it cannot see: each finding names a file the diff changes, at a line that
 * file has. Errors are lines the reviewer can act on in a repair round.
 */
export function validateReviewSubmission(
  value: unknown,
  changedFiles: ReadonlyMap<string, number>,
): { ok: true; value: ReviewSubmission } | { ok: false; errors: string[] } {
  const parsed = reviewSubmissionSchema.safeParse(value);
  if (!parsed.success) return { ok: false, errors: formatValidationIssues(parsed.error.issues) };
  const errors: string[] = [];
  const known = [...changedFiles.keys()].join(', ') || 'none';
  parsed.data.findings.forEach((finding, index) => {
    const lineCount = changedFiles.get(finding.file);
    if (lineCount === undefined) {
      errors.push(
        `${formatIssuePath(['findings', index, 'file'])}: "${finding.file}" is not a file the change leaves in place (files: ${known})`,
      );
    } else if (finding.line > Math.max(lineCount, 1)) {
      errors.push(
        `${formatIssuePath(['findings', index, 'line'])}: ${finding.file} has ${lineCount} lines; line ${finding.line} does not exist`,
      );
    }
  });
  return errors.length === 0 ? { ok: true, value: parsed.data } : { ok: false, errors };
}
