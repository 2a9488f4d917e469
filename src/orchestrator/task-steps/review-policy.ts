import type { TaskAttempt } from './task-attempt.ts';

/**
 * Whether this task's change goes through blind review: `review.enabled` (auto asks the agent
 * source), and its type among `review.taskTypes`. A resolution task is not reviewed again: it only
 * brings onto main a change that was reviewed before its merge was rejected.
 */
export function isReviewed(attempt: TaskAttempt): boolean {
  const { task, context } = attempt.claim;
  const setting = context.config['review.enabled'];
  if (setting === 'off' || attempt.payload.resolves !== undefined) return false;
  if (!context.config['review.taskTypes'].includes(task.type)) return false;
  return setting === 'on' || (context.source.reviewsByDefault?.(task.id) ?? true);
}
