export { annotateFindings, type AnnotationResult, COMMENT_MARKERS } from './annotate-findings.ts';
export { type CommentSyntax, commentSyntaxFor, formatComment } from './comment-syntax.ts';
export {
  isBlocking,
  REVIEW_SEVERITIES,
  type ReviewFinding,
  reviewFindingSchema,
  type ReviewSeverity,
  type ReviewSubmission,
  reviewSubmissionSchema,
  validateReviewSubmission,
} from './finding-schema.ts';
export { readTaskChange, type TaskChange } from './read-change.ts';
export { reviewPrompt, reviewSystemPrompt, type ReviewSubject, SUBMIT_REVIEW_TOOL } from './review-prompt.ts';
export {
  agentTypeOfReviewer,
  BLIND_REVIEWERS,
  DEVILS_ADVOCATE,
  type ReviewerName,
  REVIEWER_NAMES,
} from './reviewers.ts';
export {
  type BlindReviewResult,
  type ReviewerReport,
  type ReviewerRunner,
  reviewSubmissionSpec,
  runBlindReview,
} from './run-blind-review.ts';
