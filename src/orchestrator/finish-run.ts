import { join } from 'node:path';
import type { BudgetSummary } from '../budget/index.ts';
import type { RuntimeKind } from '../events/index.ts';
import { readMergedTasks } from './merged-work.ts';
import type { RunContext, RunEnding } from './phases/index.ts';
import { removeLeftoverWorktrees } from './recover-workspace.ts';
import { buildRunReport, writeRunReport } from './run-report.ts';
import type { RunOutcome } from './run-pipeline.ts';

/**
 * Ends the run as `ending` says: the merge queue closed, no worktree left, the report written, and
 * the run's final status recorded last (with its one `run.ended`). The report and the projections
 * come first: a kill in between leaves a run that is not yet marked ended, which the next
 * `loki resume` simply finishes again.
 */
export async function finishRun(context: RunContext, ending: RunEnding): Promise<RunOutcome> {
  const { options, products, runId, workspace } = context;
  const paths = workspace.paths;
  // The coordinator first: it merges with the queue closed next.
  await context.distributed?.close();
  await context.mergeQueue.close().catch(() => undefined);
  await removeLeftoverWorktrees(paths.root, join(paths.lokiDirectory, 'worktrees'));
  const budget = await options.governor.summary();
  const summary = describeBudgetEnding(ending, budget, options.source.runtime);
  const report = buildRunReport({
    runId,
    status: ending.outcome,
    exitCode: ending.exitCode,
    summary,
    model: options.source.description,
    now: options.clock.now(),
    requirements: products.requirements,
    architecture: products.architecture,
    tasks: await workspace.queue.list(),
    events: await workspace.store.listEvents(),
    merged: await readMergedTasks(paths.root, context.mainBranch).catch(() => new Map()),
    mainVerification: products.mainVerification,
    deployment: products.deployment,
    budget,
  });
  const written = writeRunReport(
    join(paths.lokiDirectory, 'artifacts', 'reports'),
    report,
    workspace.redactor,
  );
  await refreshProjections(context);
  await options.flush?.();
  // The evidence has the last word: a run that completed but leaves a gap ends not verified (exit 3).
  await workspace.store.updateRun(runId, { ending: { outcome: report.status, exitCode: report.exitCode } });
  await refreshProjections(context);
  return {
    runId,
    status: report.status,
    exitCode: report.exitCode,
    summary: report.summary,
    headline: report.headline,
    reportPath: written.json,
    reportMarkdownPath: written.markdown,
    reportHtmlPath: written.html,
    reviewFindings: report.reviewFindings,
    mainVerification: products.mainVerification,
    deployment: products.deployment,
  };
}

/**
 * A run stopped at the cap says what it spent; on an agent CLI, which Loki cannot hold between
 * turns, also that the turn in flight when the cap was reached may have gone past it.
 */
function describeBudgetEnding(ending: RunEnding, budget: BudgetSummary, runtime: RuntimeKind): string {
  if (ending.outcome !== 'budget' || budget.capUsd === undefined) return ending.summary;
  const spent = `spent $${budget.spentUsd.toFixed(4)} of $${budget.capUsd.toFixed(2)}`;
  const isCli = runtime === 'claude-code' || runtime === 'codex';
  return `${ending.summary} (${spent}${isCli ? "; the CLI's last turn may overshoot by one turn" : ''})`;
}

/** Projections are for people: a failure to rewrite them (a lock held too long) never fails the run. */
async function refreshProjections(context: RunContext): Promise<void> {
  await context.workspace.refreshProjections().catch(() => undefined);
}
