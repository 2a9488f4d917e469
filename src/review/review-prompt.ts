import { readRolePrompt } from '../agents/index.ts';
import { REVIEW_SEVERITIES } from './finding-schema.ts';
import { agentTypeOfReviewer, DEVILS_ADVOCATE, type ReviewerName } from './reviewers.ts';

export const SUBMIT_REVIEW_TOOL = 'submit_review';

/** What a reviewer is shown: the task, its requirements and the change. Never another reviewer's findings. */
export interface ReviewSubject {
  taskId: string;
  agentType: string;
  title: string;
  description: string;
  acceptanceCriteria: readonly string[];
  /** Each requirement the task cites, as "REQ-001: title: description" (or just its id when unknown). */
  requirements: readonly string[];
  /** `git diff base..checkpoint` of the task's branch. */
  diff: string;
  round: number;
}

/** Diffs beyond this are cut (the reviewer is told so): a prompt must fit any model's context. */
const MAX_DIFF_CHARACTERS = 120_000;

const REVIEW_SESSION_RULES = [
  `In this review session you have exactly one tool, ${SUBMIT_REVIEW_TOOL}; the whole change is in the message.`,
  `Call ${SUBMIT_REVIEW_TOOL} once with a summary and your findings (an empty list approves the change).`,
  'Each finding: severity, file (as the diff names it), line (in the file after the change), message, suggestedFix.',
  `Severities (${REVIEW_SEVERITIES.join(', ')}): Critical, High and Medium block the merge and go back to`,
  'the author as fix work; Low becomes a TODO(review) comment at the line; Cosmetic a FIXME(nitpick) comment.',
  'You review alone: you are not shown what any other reviewer found, and they do not see your findings.',
].join('\n');

const DEVILS_ADVOCATE_RULES = [
  "You are the devil's advocate. Three independent reviewers approved this change without a single finding.",
  'Unanimous approval is suspicious: look hard for what they could have missed (edge cases, error paths,',
  'requirements not met, tests that do not test, security). Report only real problems; approve if there are none.',
].join('\n');

export function reviewSystemPrompt(reviewer: ReviewerName): string {
  const role = readRolePrompt(agentTypeOfReviewer(reviewer));
  const parts = [role, REVIEW_SESSION_RULES];
  if (reviewer === DEVILS_ADVOCATE) parts.push(DEVILS_ADVOCATE_RULES);
  return parts.join('\n\n');
}

/** The user message of one reviewer: built from the subject alone, so no reviewer can see another's findings. */
export function reviewPrompt(subject: ReviewSubject): string {
  const diff =
    subject.diff.length > MAX_DIFF_CHARACTERS
      ? `${subject.diff.slice(0, MAX_DIFF_CHARACTERS)}\n[diff cut at ${MAX_DIFF_CHARACTERS} characters]`
      : subject.diff;
  const list = (items: readonly string[]) =>
    items.length === 0 ? '(none)' : items.map((item) => `- ${item}`).join('\n');
  return [
    `Review round ${subject.round} of task ${subject.taskId} (${subject.agentType}): ${subject.title}`,
    `Description:\n${subject.description || '(none)'}`,
    `Acceptance criteria:\n${list(subject.acceptanceCriteria)}`,
    `Requirements:\n${list(subject.requirements)}`,
    `The change (git diff of the task's branch; it already passed the harness's verification):\n\n${diff || '(empty diff: the task changed no file)'}`,
  ].join('\n\n---\n\n');
}
