import type { SubmissionSpec } from '../planning/index.ts';
import {
  type ReviewFinding,
  type ReviewSubmission,
  reviewSubmissionSchema,
  validateReviewSubmission,
} from './finding-schema.ts';
import { reviewPrompt, reviewSystemPrompt, type ReviewSubject, SUBMIT_REVIEW_TOOL } from './review-prompt.ts';
import { BLIND_REVIEWERS, DEVILS_ADVOCATE, type ReviewerName } from './reviewers.ts';

/** Runs one reviewer's submission on the run's runtime (AgentSource.runSubmission underneath). */
export type ReviewerRunner = (
  reviewer: ReviewerName,
  spec: SubmissionSpec<ReviewSubmission>,
) => Promise<ReviewSubmission>;

export interface ReviewerReport {
  reviewer: ReviewerName;
  summary: string;
  findings: ReviewFinding[];
}

export interface BlindReviewResult {
  reports: ReviewerReport[];
  /** Whether the devil's advocate was asked (the three approved without any finding). */
  devilsAdvocateRan: boolean;
}

/** The submission a reviewer must hand in: the review schema, checked against the files the change has. */
export function reviewSubmissionSpec(
  reviewer: ReviewerName,
  subject: ReviewSubject,
  changedFiles: ReadonlyMap<string, number>,
): SubmissionSpec<ReviewSubmission> {
  return {
    phase: `Review (${reviewer}) of ${subject.taskId}`,
    codePrefix: 'REVIEW',
    toolName: SUBMIT_REVIEW_TOOL,
    toolDescription:
      'Hand in your review of the change: a summary and your findings (an empty list approves it).',
    inputSchema: reviewSubmissionSchema,
    system: reviewSystemPrompt(reviewer),
    // Built from the subject alone: nothing another reviewer found can reach this prompt.
    prompt: reviewPrompt(subject),
    validate: (input) => validateReviewSubmission(input, changedFiles),
    changedFiles,
    describe: (value) =>
      value.findings.length === 0 ? 'an approval' : `a review with ${value.findings.length} findings`,
    advice:
      'Review needs a model that follows the submit_review schema; try the planning model of another provider.',
  };
}

/**
 * The three blind reviewers, in parallel, each given the same subject and nothing of the others;
 * when all three approve without a single finding and `allowDevilsAdvocate` holds, one
 * devil's-advocate review follows.
 */
export async function runBlindReview(options: {
  subject: ReviewSubject;
  changedFiles: ReadonlyMap<string, number>;
  run: ReviewerRunner;
  allowDevilsAdvocate: boolean;
}): Promise<BlindReviewResult> {
  const { subject, changedFiles, run } = options;
  const review = async (reviewer: ReviewerName): Promise<ReviewerReport> => {
    const submission = await run(reviewer, reviewSubmissionSpec(reviewer, subject, changedFiles));
    return { reviewer, summary: submission.summary, findings: submission.findings };
  };
  const reports = await Promise.all(BLIND_REVIEWERS.map(review));
  const unanimous = reports.every((report) => report.findings.length === 0);
  if (!unanimous || !options.allowDevilsAdvocate) return { reports, devilsAdvocateRan: false };
  reports.push(await review(DEVILS_ADVOCATE));
  return { reports, devilsAdvocateRan: true };
}
