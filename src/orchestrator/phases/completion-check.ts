import { ExitCode } from '../../errors/index.ts';
import { runGit } from '../../git/index.ts';
import { cancelledTasksOf } from '../cancelled-work.ts';
import { describeVerification } from './describe-work.ts';
import type { RunContext } from './run-context.ts';
import type { RunEnding } from './run-phase-module.ts';

/**
 * The run's own exit criteria, once every phase passed (so every planned task is merged or
 * cancelled): main verified on its final commit, and nothing planned cancelled.
 */
export async function checkCompletion(context: RunContext): Promise<RunEnding> {
  const { products, runId } = context;
  const root = context.workspace.paths.root;
  const finalMain = (await runGit(root, ['rev-parse', `refs/heads/${context.mainBranch}`])).stdout.trim();
  if (products.mainVerification === null || products.mainVerification.commit !== finalMain) {
    products.mainVerification = await context.verifyMain(true);
  }
  const verification = products.mainVerification;
  if (!verification.passed) {
    return {
      outcome: 'not_verified',
      exitCode: ExitCode.notVerified,
      summary: `main is not verified: ${describeVerification(verification)}`,
    };
  }
  const tasks = (await context.workspace.queue.list()).filter((task) => task.runId === runId);
  const cancelled = cancelledTasksOf(tasks, runId);
  if (cancelled.length > 0) {
    // Main is green, but what was cancelled was planned and is not built.
    return {
      outcome: 'not_verified',
      exitCode: ExitCode.notVerified,
      summary: `${cancelled.length} task(s) were cancelled, so not everything planned was built: ${cancelled.map((task) => task.id).join(', ')}; ${describeVerification(verification)}`,
    };
  }
  return {
    outcome: 'completed',
    exitCode: ExitCode.ok,
    summary: `${tasks.length} task(s) merged; ${describeVerification(verification)}`,
  };
}
