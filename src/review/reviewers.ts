/** The three blind reviewers, each an agent type of the catalog's review swarm. */
export const BLIND_REVIEWERS = ['review-code', 'review-business', 'review-security'] as const;

/**
 * Asked once when the three approve with no finding at all: unanimous approval is as likely to
 * mean three shallow reviews as a flawless change. It works as a code reviewer told to disagree.
 */
export const DEVILS_ADVOCATE = 'devils-advocate' as const;

export type ReviewerName = (typeof BLIND_REVIEWERS)[number] | typeof DEVILS_ADVOCATE;
export const REVIEWER_NAMES: readonly ReviewerName[] = [...BLIND_REVIEWERS, DEVILS_ADVOCATE];

/** The catalog agent type whose role prompt a reviewer works under. */
export function agentTypeOfReviewer(reviewer: ReviewerName): string {
  return reviewer === DEVILS_ADVOCATE ? 'review-code' : reviewer;
}
