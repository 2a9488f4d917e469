import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../errors/index.ts';
import { ensureInitialCommit } from '../../git/index.ts';
import {
  bringStaleCheckoutForward,
  currentBranch,
  releaseTasksOfDeadWorkers,
  removeLeftoverWorktrees,
} from '../recover-workspace.ts';
import type { RunContext } from './run-context.ts';
import type { PhaseVerdict, RunPhaseModule } from './run-phase-module.ts';

/** Bootstrap: a git repository with a main branch to merge into, the PRD copy, no leftovers. */
export const bootstrapPhase: RunPhaseModule = {
  name: 'bootstrap',
  needs: [],
  steps: [prepareWorkspace],
};

async function prepareWorkspace(context: RunContext): Promise<PhaseVerdict> {
  const paths = context.workspace.paths;
  await ensureInitialCommit(paths.root);
  context.mainBranch = await currentBranch(paths.root);
  const endedProcesses = await removeLeftoverWorktrees(paths.root, join(paths.lokiDirectory, 'worktrees'));
  const caughtUp = await bringStaleCheckoutForward(paths.root, context.mainBranch);
  const released = await releaseTasksOfDeadWorkers(context.workspace, context.runId);
  if (!existsSync(paths.prdCopy)) {
    return {
      outcome: 'failed',
      details: 'no PRD in .loki/specs/prd.md',
      ending: {
        outcome: 'failed',
        exitCode: ExitCode.usage,
        summary: 'the workspace has no PRD: run loki run <prd>',
      },
    };
  }
  const prdText = readFileSync(paths.prdCopy, 'utf8');
  context.products.prdText = prdText;
  return {
    outcome: 'passed',
    details:
      `repository on ${context.mainBranch}, PRD ${prdText.length} characters` +
      (released > 0 ? `, ${released} interrupted task(s) back in the queue` : '') +
      (endedProcesses > 0 ? `, ${endedProcesses} process(es) of an interrupted run ended` : '') +
      (caughtUp ? ', checkout brought up to main' : ''),
  };
}
