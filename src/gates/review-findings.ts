import type { LokiEvent, ReviewFindingReportedData } from '../events/index.ts';

/** A review finding with what became of it, for the evidence report. */
export interface ReviewFindingReport extends ReviewFindingReportedData {
  taskId: string;
  /** How it was resolved, in words ("fixed: round 2 approved", "left as TODO(review) at src/a.ts:3"). */
  resolution: string;
  /** False for a blocking finding that no later round approved: a gap in the evidence. */
  isResolved: boolean;
}

/**
 * Every finding the blind reviewers reported (review.finding_reported) and its resolution, from the
 * events: a blocking finding (routing `fix`) is resolved only when a later review round of the
 * same task approved the change; Low and Cosmetic findings are resolved by the comment Loki wrote
 * at the line (`TODO(review)` / `FIXME(nitpick)`).
 */
export function resolveReviewFindings(
  events: readonly LokiEvent[],
  runId: string | null,
): ReviewFindingReport[] {
  const ofRun = events.filter((event) => runId === null || event.runId === runId);
  const approvedRounds = new Map<string, number[]>();
  for (const event of ofRun) {
    if (event.type !== 'review.completed' || event.taskId === null) continue;
    if (event.data.outcome !== 'approved') continue;
    approvedRounds.set(event.taskId, [...(approvedRounds.get(event.taskId) ?? []), event.data.round]);
  }
  const findings: ReviewFindingReport[] = [];
  for (const event of ofRun) {
    if (event.type !== 'review.finding_reported' || event.taskId === null) continue;
    const finding = event.data;
    const at = `${finding.file}:${finding.line}`;
    if (finding.routing === 'todo_comment') {
      findings.push({
        ...finding,
        taskId: event.taskId,
        resolution: `left as TODO(review) at ${at}`,
        isResolved: true,
      });
    } else if (finding.routing === 'nitpick_comment') {
      findings.push({
        ...finding,
        taskId: event.taskId,
        resolution: `left as FIXME(nitpick) at ${at}`,
        isResolved: true,
      });
    } else {
      const later = (approvedRounds.get(event.taskId) ?? []).filter((round) => round > finding.round);
      findings.push({
        ...finding,
        taskId: event.taskId,
        resolution:
          later.length === 0
            ? `open: no later review round of ${event.taskId} approved a fix`
            : `fixed in a later round (round ${Math.min(...later)} approved)`,
        isResolved: later.length > 0,
      });
    }
  }
  return findings;
}
