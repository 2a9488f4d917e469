import { ExitCode } from '../../errors/index.ts';
import { phaseOfTask, type RunPhase } from '../../planning/index.ts';
import { cancelTasksWaitingOnCancelled } from '../cancelled-work.ts';
import { enqueuePlannedTasks } from '../planned-tasks.ts';
import { describeMerged } from './describe-work.ts';
import { need, type RunContext } from './run-context.ts';
import type { PhaseVerdict } from './run-phase-module.ts';
import { schedulerVerdict } from './scheduler-verdict.ts';

/**
 * A delivery phase's planned tasks: added to the queue (once), then the scheduler runs the run's
 * ready tasks until nothing more can run. Exit criterion: every planned task of the phase merged.
 * Cancelled tasks do not block the run (what waits on them was cancelled with them); the run then
 * ends not verified, its report naming them.
 */
export async function runPlannedTasks(context: RunContext, phase: RunPhase): Promise<PhaseVerdict> {
  const { workspace, runId } = context;
  const planned = need(context, 'architecture').tasks.filter((task) => phaseOfTask(task) === phase);
  await enqueuePlannedTasks(
    workspace,
    runId,
    planned,
    context.options.maxTaskAttempts ?? 3,
    undefined,
    context.options.config.sealedAcceptanceTests,
  );
  await cancelTasksWaitingOnCancelled(workspace, runId);
  const interrupted = schedulerVerdict(await context.runTasks(), phase);
  if (interrupted !== null) return interrupted;
  const phaseTasks = (await workspace.queue.list()).filter(
    (task) => task.runId === runId && planned.some((plannedTask) => plannedTask.id === task.id),
  );
  const unmerged = phaseTasks.filter((task) => task.status !== 'completed' && task.status !== 'cancelled');
  if (unmerged.length === 0) return { outcome: 'passed', details: describeMerged(phaseTasks) };
  return {
    outcome: 'failed',
    details: `not merged: ${unmerged.map((task) => `${task.id} (${task.status})`).join(', ')}`,
    ending: {
      outcome: 'blocked',
      exitCode: ExitCode.blocked,
      summary: `${unmerged.length} planned task(s) of ${phase} were not merged`,
    },
  };
}
