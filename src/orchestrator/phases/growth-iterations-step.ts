import { isLokiError } from '../../errors/index.ts';
import { type ArchitectureDocument, runGrowthPlanning, type RunPhase } from '../../planning/index.ts';
import type { Task } from '../../store/index.ts';
import { enqueuePlannedTasks } from '../planned-tasks.ts';
import { need, type RunContext } from './run-context.ts';
import type { PhaseVerdict } from './run-phase-module.ts';
import { interruptedVerdict, schedulerVerdict } from './scheduler-verdict.ts';

/**
 * Perpetual improvement: each iteration a planning agent proposes improvement tasks (validated),
 * the scheduler merges them, and so on until `maxIterations`, an empty proposal, a stop or the
 * budget. Iterations are numbered in the tasks' payloads, so a resumed run continues the count.
 */
export async function runGrowthIterations(context: RunContext, phase: RunPhase): Promise<PhaseVerdict> {
  const { options, workspace, runId } = context;
  let done = Math.max(
    0,
    ...(await workspace.queue.list()).filter((task) => task.runId === runId).map(iterationOf),
  );
  let merged = 0;
  let ending = 'the planner proposed nothing more';
  for (;;) {
    if (options.maxIterations !== null && done >= options.maxIterations) {
      ending = `--max-iterations ${options.maxIterations} reached`;
      break;
    }
    if (options.signal.aborted) return interruptedVerdict({ outcome: 'stopped' }, phase);
    const iteration = done + 1;
    const tasks = await proposeImprovements(context, iteration);
    if (tasks === null) {
      ending = 'the scripted session has no more growth iterations';
      break;
    }
    if (tasks.length === 0) break;
    const growthTasks = tasks.map((task) => ({ ...task, phase: 'growth' as const }));
    await enqueuePlannedTasks(workspace, runId, growthTasks, options.maxTaskAttempts ?? 3, iteration);
    const interrupted = schedulerVerdict(await context.runTasks(), phase);
    if (interrupted !== null) return interrupted;
    done = iteration;
    merged += tasks.length;
  }
  return {
    outcome: 'passed',
    details: `${done} growth iteration(s), ${merged} improvement task(s) merged this session; ${ending}`,
  };
}

/** The growth iteration a task was planned in (0: not a growth task). */
function iterationOf(task: Task): number {
  const value = (task.payload as { growthIteration?: unknown } | null)?.growthIteration;
  return typeof value === 'number' ? value : 0;
}

/** The planner's improvement tasks for one iteration; null when a scripted session has none left. */
async function proposeImprovements(
  context: RunContext,
  iteration: number,
): Promise<ArchitectureDocument['tasks'] | null> {
  const { options } = context;
  try {
    return await runGrowthPlanning({
      runSubmission: (spec, runOptions) =>
        options.source.runSubmission({ growthIteration: iteration }, spec, runOptions),
      prdText: need(context, 'prdText'),
      requirements: need(context, 'requirements'),
      iteration,
      existingTasks: await context.workspace.queue.list(),
      emit: context.emit,
      runId: context.runId,
      ...context.planningAgent('growth'),
      signal: options.signal,
    });
  } catch (error) {
    if (isLokiError(error) && error.code === 'SESSION_GROWTH_MISSING') return null;
    throw error;
  }
}
