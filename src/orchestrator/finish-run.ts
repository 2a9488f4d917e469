import { join } from 'node:path';
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
  await context.mergeQueue.close().catch(() => undefined);
  await removeLeftoverWorktrees(paths.root, join(paths.lokiDirectory, 'worktrees'));
  const report = buildRunReport({
    runId,
    status: ending.outcome,
    exitCode: ending.exitCode,
    summary: ending.summary,
    model: options.source.description,
    now: options.clock.now(),
    requirements: products.requirements,
    architecture: products.architecture,
    tasks: await workspace.queue.list(),
    events: await workspace.store.listEvents(),
    merged: await readMergedTasks(paths.root, context.mainBranch).catch(() => new Map()),
    mainVerification: products.mainVerification,
    budget: await options.governor.summary(),
  });
  const written = writeRunReport(
    join(paths.lokiDirectory, 'artifacts', 'reports'),
    report,
    workspace.redactor,
  );
  await refreshProjections(context);
  await options.flush?.();
  await workspace.store.updateRun(runId, { ending: { outcome: ending.outcome, exitCode: ending.exitCode } });
  await refreshProjections(context);
  return {
    runId,
    status: ending.outcome,
    exitCode: ending.exitCode,
    summary: ending.summary,
    reportPath: written.json,
    reportMarkdownPath: written.markdown,
    mainVerification: products.mainVerification,
  };
}

/** Projections are for people: a failure to rewrite them (a lock held too long) never fails the run. */
async function refreshProjections(context: RunContext): Promise<void> {
  await context.workspace.refreshProjections().catch(() => undefined);
}
