import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCallBudget } from '../../budget/index.ts';
import { priceUsage } from '../../providers/index.ts';
import { checkpointMessage, commitCheckpoint, rollbackWorktree, runGit } from '../../git/index.ts';
import { REQUIREMENTS_JSON_FILE, requirementsDocumentSchema } from '../../planning/index.ts';
import {
  agentTypeOfReviewer,
  annotateFindings,
  type BlindReviewResult,
  isBlocking,
  readTaskChange,
  type ReviewFinding,
  type ReviewerRunner,
  type ReviewSubject,
  runBlindReview,
} from '../../review/index.ts';
import { MAX_OUTPUT_TOKENS_PER_CALL, taskRetryPolicy } from '../../runtime/index.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import { runFixRound } from './agent-step.ts';
import { isReviewed } from './review-policy.ts';
import type { TaskAttempt } from './task-attempt.ts';

/**
 * Blind review, after verification and before the merge: three reviewers judge the change alone
 * (one devil's advocate when they approve without a finding). Critical, High and Medium findings
 * go back to the task's agent as a fix round, then the change is reviewed again, up to
 * `review.maxRounds` rounds; after that the task fails and its branch returns to where it left
 * main. On approval, Low and Cosmetic findings are written at their lines and checkpointed.
 */
export async function reviewChange(attempt: TaskAttempt): Promise<TaskWorkOutcome | null> {
  if (!isReviewed(attempt)) return null;
  const { claim } = attempt;
  const maxRounds = claim.context.config['review.maxRounds'];
  let devilsAdvocateRan = false;
  for (let round = 1; ; round += 1) {
    const result = await reviewRound(attempt, round, !devilsAdvocateRan);
    devilsAdvocateRan ||= result.devilsAdvocateRan;
    const findings = result.reports.flatMap((report) => report.findings);
    const blocking = findings.filter((finding) => isBlocking(finding.severity));
    const next = blocking.length === 0 ? 'merge' : round >= maxRounds ? 'fail' : 'fix';
    recordRound(attempt, round, result, next);
    if (next === 'merge') {
      await writeComments(attempt, findings);
      return null;
    }
    if (next === 'fail') return failReview(attempt, blocking, round);
    const outcome = await runFixRound(attempt, fixPrompt(blocking, round));
    if (outcome !== null) return outcome;
  }
}

async function reviewRound(
  attempt: TaskAttempt,
  round: number,
  allowDevilsAdvocate: boolean,
): Promise<BlindReviewResult> {
  const { claim, payload } = attempt;
  const { task, context } = claim;
  const worktree = claim.requireWorktree();
  const change = await readTaskChange(worktree.path, context.mainBranch, context.signal);
  const subject: ReviewSubject = {
    taskId: task.id,
    agentType: task.type,
    title: task.title,
    description: task.description ?? '',
    acceptanceCriteria: payload.acceptanceCriteria,
    requirements: requirementLines(context.workspace.paths.specsDirectory, payload.requirementIds),
    diff: change.diff,
    round,
  };
  const run = reviewerRunner(attempt, round);
  const result = await runBlindReview({
    subject,
    changedFiles: change.changedFiles,
    run,
    allowDevilsAdvocate,
  });
  // Reviewers' words reach the code, the agent's prompt and the events: no secret passes through.
  const { redactor } = context.workspace;
  const reports = result.reports.map((report) => ({
    ...report,
    findings: report.findings.map((finding) => ({
      ...finding,
      message: redactor.redact(finding.message),
      suggestedFix: redactor.redact(finding.suggestedFix),
    })),
  }));
  return { ...result, reports };
}

/**
 * Each reviewer on the run's provider, with the task's retry policy and the run's budget: reviews
 * are model calls like any other, counted against the task and the reviewer's agent type.
 */
function reviewerRunner(attempt: TaskAttempt, round: number): ReviewerRunner {
  const { task, context } = attempt.claim;
  return (reviewer, spec) => {
    const agentType = agentTypeOfReviewer(reviewer);
    return context.source.runSubmission({ review: { taskId: task.id, reviewer, round } }, spec, {
      emit: context.emit,
      retry: taskRetryPolicy({
        config: context.config,
        breakerConfig: context.breakerConfig,
        clock: context.clock,
        store: context.workspace.store,
        provider: context.source.provider,
        agentType,
        ...(context.random === undefined ? {} : { random: context.random }),
        canRequeue: true,
      }),
      runId: context.runId,
      signal: context.signal,
      ...(context.governor === null
        ? {}
        : {
            budget: createCallBudget(context.governor, {
              taskId: task.id,
              agentType,
              maxOutputTokens: MAX_OUTPUT_TOKENS_PER_CALL,
              priceUsage,
            }),
          }),
    });
  };
}

/** Each finding, then the round's verdict, as events (the report and the dashboard read them). */
function recordRound(
  attempt: TaskAttempt,
  round: number,
  result: BlindReviewResult,
  next: 'merge' | 'fix' | 'fail',
): void {
  const { task, context } = attempt.claim;
  const counts = { critical: 0, high: 0, medium: 0, low: 0, cosmetic: 0 };
  for (const report of result.reports) {
    for (const finding of report.findings) {
      counts[finding.severity.toLowerCase() as keyof typeof counts] += 1;
      context.emit({
        type: 'review.finding_reported',
        runId: context.runId,
        taskId: task.id,
        data: {
          reviewer: report.reviewer,
          round,
          ...finding,
          routing: isBlocking(finding.severity)
            ? 'fix'
            : finding.severity === 'Low'
              ? 'todo_comment'
              : 'nitpick_comment',
        },
      });
    }
  }
  context.emit({
    type: 'review.completed',
    runId: context.runId,
    taskId: task.id,
    data: {
      round,
      outcome: next === 'merge' ? 'approved' : 'changes_requested',
      reviewers: result.reports.map((report) => report.reviewer),
      devilsAdvocate: result.devilsAdvocateRan,
      counts,
      next,
    },
  });
}

/** The fix round's instructions: every blocking finding, with where it is and the suggested fix. */
export function fixPrompt(blocking: readonly ReviewFinding[], round: number): string {
  const lines = blocking.map(
    (finding) =>
      `- [${finding.severity}] ${finding.file}:${finding.line}: ${finding.message} Suggested fix: ${finding.suggestedFix}`,
  );
  return [
    `REVIEW ROUND ${round} BLOCKED THE MERGE. Reviewers found these problems in your change:`,
    ...lines,
    'Fix each of them (or make the code plainly right where a finding is mistaken), check your work,',
    'then call task_complete again. The harness verifies the change and the reviewers review it again.',
  ].join('\n');
}

/** Low and Cosmetic findings as comments at their lines, committed as part of the task's checkpoint. */
async function writeComments(attempt: TaskAttempt, findings: readonly ReviewFinding[]): Promise<void> {
  const { task, context } = attempt.claim;
  const worktree = attempt.claim.requireWorktree();
  const { annotated } = annotateFindings(worktree.path, findings);
  if (annotated.length === 0) return;
  // Same subject as the checkpoint: a run that dies now still finds a verified checkpoint to reuse.
  await commitCheckpoint(
    worktree,
    checkpointMessage({ agentType: task.type, taskId: task.id, title: task.title }),
    context.signal,
  );
}

/** Review rounds used up: the task fails and its branch goes back to main, so a retry starts afresh. */
async function failReview(
  attempt: TaskAttempt,
  blocking: readonly ReviewFinding[],
  rounds: number,
): Promise<TaskWorkOutcome> {
  const { claim } = attempt;
  const worktree = claim.requireWorktree();
  const signal = claim.context.signal;
  const fork = await runGit(worktree.path, ['merge-base', `refs/heads/${claim.context.mainBranch}`, 'HEAD'], {
    signal,
  });
  await rollbackWorktree(worktree, fork.stdout.trim(), signal);
  await claim.settled();
  const first = blocking[0];
  await claim.context.workspace.queue.fail(
    claim.task.id,
    claim.workerId,
    `review blocked the merge after ${rounds} rounds: ${blocking.length} blocking findings` +
      (first === undefined ? '' : `, e.g. [${first.severity}] ${first.file}:${first.line}: ${first.message}`),
  );
  return 'failed';
}

/** The task's requirements as "REQ-001: title: description", from Discovery's requirements.json. */
function requirementLines(specsDirectory: string, ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  const path = join(specsDirectory, REQUIREMENTS_JSON_FILE);
  const parsed = existsSync(path)
    ? requirementsDocumentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
    : null;
  const known = new Map((parsed?.success === true ? parsed.data.requirements : []).map((r) => [r.id, r]));
  return ids.map((id) => {
    const requirement = known.get(id);
    return requirement === undefined ? id : `${id}: ${requirement.title}: ${requirement.description}`;
  });
}
