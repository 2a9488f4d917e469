import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BudgetGovernor, createCallBudget } from '../budget/index.ts';
import { ExitCode, isLokiError, LokiError } from '../errors/index.ts';
import type { NewEvent, RunSettingsRecordedData } from '../events/index.ts';
import { ensureInitialCommit, runGit } from '../git/index.ts';
import {
  type ArchitectureDocument,
  DELIVERY_PHASES,
  type DeliveryPhase,
  phaseOfTask,
  type RequirementsDocument,
  runArchitecture,
  runDiscovery,
  runGrowthPlanning,
  type RunPhase,
  writeArchitectureSpecs,
  writeRequirementsSpecs,
} from '../planning/index.ts';
import { priceUsage } from '../providers/index.ts';
import { MAX_OUTPUT_TOKENS_PER_CALL, taskRetryPolicy } from '../runtime/index.ts';
import type { Run, Task } from '../store/index.ts';
import { toWorkspaceFault, type Workspace } from '../workspace/index.ts';
import { cancelledTasksOf, cancelTasksWaitingOnCancelled } from './cancelled-work.ts';
import { DEFAULT_MAIN_FIX_ROUNDS, verifyMainWithFixRounds } from './main-fix-rounds.ts';
import { MergeQueue } from './merge-queue.ts';
import { MergedWorkIndex, readMergedTasks } from './merged-work.ts';
import { buildRunReport, type RunStatusWord, writeRunReport } from './run-report.ts';
import { runScheduler, type SchedulerResult } from './scheduler.ts';
import type { RunServices, TaskWorkerContext } from './task-worker.ts';
import { type MainVerification, verifyMain } from './verify-main.ts';
import { WorkerLimiter } from './worker-limit.ts';
import { enqueuePlannedTasks, readValidArchitecture, readValidRequirements } from './planned-tasks.ts';
import {
  bringStaleCheckoutForward,
  currentBranch,
  releaseTasksOfDeadWorkers,
  removeLeftoverWorktrees,
} from './recover-workspace.ts';

export interface RunPipelineOptions extends RunServices {
  /** Upper bound of agents working at once. */
  parallel: number;
  /** Always present: without a cap it still records what was spent on what. */
  governor: BudgetGovernor;
  perpetual: boolean;
  /** Growth iterations with `perpetual`; null = until stopped or out of budget. */
  maxIterations: number | null;
  /** The run's id: a new one, or the latest run's when `resume`. */
  runId: string;
  /** Continue the run `runId` (the workspace's latest) instead of starting it. */
  resume: boolean;
  /** How the run is started (or resumed, when they changed): recorded with the run. */
  settings?: RunSettingsRecordedData;
  signal: AbortSignal;
  /** Records an event (asynchronously, in order). */
  emit: (event: NewEvent) => void;
  /** Resolves once every event emitted so far is in the store, so phase events land in order. */
  flush?: () => Promise<void>;
  /** Attempts (claims) of one task before it is dead-lettered. */
  maxTaskAttempts?: number;
  /** Fix rounds for a red main at QA and again at Deployment before the run ends not verified (default 2). */
  maxMainFixRounds?: number;
  roundsPerAttempt?: number;
  maxSteps?: number;
  /** Memory one agent needs, for the adaptive worker limit (agent CLIs need much more than in-process loops). */
  memoryPerWorkerBytes?: number;
  pollMilliseconds?: number;
}

export interface RunOutcome {
  runId: string;
  status: RunStatusWord;
  exitCode: number;
  summary: string;
  reportPath: string;
  reportMarkdownPath: string;
  mainVerification: MainVerification | null;
}

/**
 * `loki run`: Bootstrap → Discovery → Architecture → Infrastructure → Development → QA → Deployment →
 * Business (→ Growth with `perpetual`). Every phase is idempotent, so resuming simply runs the
 * pipeline again: kept specs are re-validated instead of re-planned, tasks already in the queue are
 * not added twice, merged work is recognised on main and never redone. The model proposes; the code
 * checks every exit criterion and decides the outcome.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<RunOutcome> {
  const { workspace, clock } = options;
  const paths = workspace.paths;
  const run = await startOrResumeRun(options);
  const runId = run.id;
  const emit = (event: NewEvent) => options.emit({ ...event, runId: event.runId ?? runId });
  let requirements: RequirementsDocument | null = null;
  let architecture: ArchitectureDocument | null = null;
  let mainVerification: MainVerification | null = null;
  let mainBranch = 'main';
  const mergeQueue = new MergeQueue({
    repositoryRoot: paths.root,
    workDirectory: join(paths.lokiDirectory, 'worktrees'),
    commandRunner: options.runner,
    verifyEnvironment: options.verifyEnvironment,
    mainBranch: await currentBranch(paths.root),
    // Every merge result must pass the project's gates too (known once Architecture has run).
    projectGates: () => architecture?.verifyCommands ?? [],
    signal: options.signal,
  });

  const finish = async (status: RunStatusWord, exitCode: number, summary: string): Promise<RunOutcome> => {
    await mergeQueue.close().catch(() => undefined);
    await removeLeftoverWorktrees(paths.root, join(paths.lokiDirectory, 'worktrees'));
    // The report and the projections come first and the run's final status last: a kill in between
    // leaves a run that is not yet marked ended, which the next `loki resume` simply finishes again.
    const report = buildRunReport({
      runId,
      status,
      exitCode,
      summary,
      model: options.source.description,
      now: clock.now(),
      requirements,
      architecture,
      tasks: await workspace.queue.list(),
      events: await workspace.store.listEvents(),
      merged: await readMergedTasks(paths.root, mainBranch).catch(() => new Map()),
      mainVerification,
      budget: await options.governor.summary(),
    });
    const written = writeRunReport(
      join(paths.lokiDirectory, 'artifacts', 'reports'),
      report,
      workspace.redactor,
    );
    await refreshProjections(workspace);
    await options.flush?.();
    await workspace.store.updateRun(runId, { ending: { outcome: status, exitCode } }); // appends run.ended
    await refreshProjections(workspace);
    return {
      runId,
      status,
      exitCode,
      summary,
      reportPath: written.json,
      reportMarkdownPath: written.markdown,
      mainVerification,
    };
  };

  // The planning agents get the same retry policy (and provider breaker) as the task agents.
  const retry = taskRetryPolicy({
    config: options.config,
    breakerConfig: options.breakerConfig,
    clock,
    store: workspace.store,
    provider: options.source.provider,
    agentType: 'orchestrator',
  });
  // The harness's evidence about main: the product's gates, and with `checkBoot` its health check.
  const verifyMainNow = (plan: ArchitectureDocument, checkBoot: boolean) =>
    verifyMain({
      repositoryRoot: paths.root,
      worktreesDirectory: join(paths.lokiDirectory, 'worktrees'),
      mainBranch,
      commands: plan.verifyCommands,
      deployment: plan.deployment,
      checkBoot,
      runner: options.runner,
      env: options.verifyEnvironment,
      emit,
      runId,
      signal: options.signal,
    });
  const planningBudget = (phase: string) =>
    createCallBudget(options.governor, {
      taskId: `phase:${phase}`,
      agentType: 'orchestrator',
      maxOutputTokens: MAX_OUTPUT_TOKENS_PER_CALL,
      priceUsage,
    });

  // Phase events go straight to the store after everything emitted before them, so the trail reads in order.
  const enter = async (phase: RunPhase) => {
    await options.flush?.();
    await workspace.store.updateRun(runId, { phase }); // appends phase.entered with the change
  };
  const exit = async (phase: RunPhase, outcome: 'passed' | 'failed' | 'stopped', details: string) => {
    await options.flush?.();
    await workspace.store.appendEvent({
      type: 'phase.exited',
      runId,
      taskId: null,
      data: { phase, outcome, details },
    });
  };

  try {
    // Bootstrap: a git repository with a main branch to merge into, the PRD copy, no leftovers.
    await enter('bootstrap');
    await ensureInitialCommit(paths.root);
    mainBranch = await currentBranch(paths.root);
    await removeLeftoverWorktrees(paths.root, join(paths.lokiDirectory, 'worktrees'));
    const caughtUp = await bringStaleCheckoutForward(paths.root, mainBranch);
    const released = await releaseTasksOfDeadWorkers(workspace, runId);
    if (!existsSync(paths.prdCopy)) {
      await exit('bootstrap', 'failed', 'no PRD in .loki/specs/prd.md');
      return await finish('failed', ExitCode.usage, 'the workspace has no PRD: run loki run <prd>');
    }
    const prdText = readFileSync(paths.prdCopy, 'utf8');
    await exit(
      'bootstrap',
      'passed',
      `repository on ${mainBranch}, PRD ${prdText.length} characters` +
        (released > 0 ? `, ${released} interrupted task(s) back in the queue` : '') +
        (caughtUp ? ', checkout brought up to main' : ''),
    );

    // Discovery: requirements, validated; kept from an earlier session when still valid.
    await enter('discovery');
    requirements = readValidRequirements(paths.specsDirectory);
    if (requirements === null) {
      requirements = await runDiscovery({
        model: options.source.planningModel('discovery'),
        provider: options.source.provider,
        prdText,
        emit,
        retry,
        runId,
        budget: planningBudget('discovery'),
        signal: options.signal,
      });
      writeRequirementsSpecs(paths.specsDirectory, requirements);
      await exit(
        'discovery',
        'passed',
        `${requirements.requirements.length} requirements written to .loki/specs/`,
      );
    } else {
      await exit(
        'discovery',
        'passed',
        `${requirements.requirements.length} requirements kept from .loki/specs/`,
      );
    }

    // Architecture: the design and the task DAG, validated against the requirements.
    await enter('architecture');
    architecture = readValidArchitecture(paths.specsDirectory, requirements);
    if (architecture === null) {
      architecture = await runArchitecture({
        model: options.source.planningModel('architecture'),
        provider: options.source.provider,
        prdText,
        requirements,
        emit,
        retry,
        runId,
        budget: planningBudget('architecture'),
        signal: options.signal,
      });
      writeArchitectureSpecs(paths.specsDirectory, architecture);
      await exit('architecture', 'passed', `${architecture.tasks.length} tasks planned; specs written`);
    } else {
      await exit('architecture', 'passed', `${architecture.tasks.length} tasks kept from .loki/specs/`);
    }

    const workerContext: TaskWorkerContext = {
      merged: await MergedWorkIndex.load(paths.root, mainBranch),
      workspace,
      runId,
      mainBranch,
      mergeQueue,
      source: options.source,
      runner: options.runner,
      verifyEnvironment: options.verifyEnvironment,
      config: options.config,
      breakerConfig: options.breakerConfig,
      clock,
      governor: options.governor,
      emit,
      signal: options.signal,
      roundsPerAttempt: options.roundsPerAttempt ?? 3,
      maxSteps: options.maxSteps ?? 50,
      projectGates: architecture.verifyCommands,
    };
    const limiter = new WorkerLimiter({
      requested: options.parallel,
      memoryPerWorkerBytes: options.memoryPerWorkerBytes ?? 64 * 1024 * 1024,
    });
    /** Runs the run's ready tasks (of any phase) until the queue has nothing more for now. */
    const runTasks = () =>
      runScheduler({
        context: workerContext,
        workerLimit: () => limiter.current(),
        requestedWorkers: options.parallel,
        workerIdPrefix: `run:${runId}:${process.pid}`,
        ...(options.pollMilliseconds === undefined ? {} : { pollMilliseconds: options.pollMilliseconds }),
      });
    const phases = DELIVERY_PHASES.filter((phase) => phase !== 'growth' || options.perpetual);
    for (const phase of phases) {
      await enter(phase);
      const planned = architecture.tasks.filter((task) => phaseOfTask(task) === phase);
      await enqueuePlannedTasks(workspace, runId, planned, options.maxTaskAttempts ?? 3);
      await cancelTasksWaitingOnCancelled(workspace, runId);
      const result = await runTasks();
      const ended = await schedulerEnding(result, phase, exit, finish);
      if (ended !== null) return ended;
      const phaseTasks = (await workspace.queue.list()).filter(
        (task) => task.runId === runId && planned.some((plannedTask) => plannedTask.id === task.id),
      );
      // Cancelled tasks do not block the run (what waits on them was cancelled with them); the
      // run then ends not verified, its report naming them.
      const unmerged = phaseTasks.filter(
        (task) => task.status !== 'completed' && task.status !== 'cancelled',
      );
      if (unmerged.length > 0) {
        await exit(
          phase,
          'failed',
          `not merged: ${unmerged.map((task) => `${task.id} (${task.status})`).join(', ')}`,
        );
        return await finish(
          'blocked',
          ExitCode.blocked,
          `${unmerged.length} planned task(s) of ${phase} were not merged`,
        );
      }
      if (phase === 'growth') {
        const growth = await runGrowthIterations({
          ...options,
          runId,
          prdText,
          requirements,
          emit,
          retry,
          budget: planningBudget('growth'),
          runScheduler: runTasks,
        });
        if (growth.result.outcome !== 'done') {
          const ended = await schedulerEnding(growth.result, phase, exit, finish);
          if (ended !== null) return ended;
        }
        await exit(phase, 'passed', growth.details);
        continue;
      }
      if (phase === 'qa' || phase === 'deployment') {
        // QA: the project's gates pass on main. Deployment: the product also boots and answers its
        // health path. A red main becomes fix work first, for a bounded number of rounds.
        const plan = architecture;
        const checked = await verifyMainWithFixRounds({
          phase,
          workspace,
          runId,
          maxRounds: options.maxMainFixRounds ?? DEFAULT_MAIN_FIX_ROUNDS,
          maxTaskAttempts: options.maxTaskAttempts ?? 3,
          gates: plan.verifyCommands,
          verify: () => verifyMainNow(plan, phase === 'deployment'),
          runScheduler: runTasks,
        });
        if (checked.outcome === 'interrupted') {
          const ended = await schedulerEnding(checked.result, phase, exit, finish);
          if (ended !== null) return ended;
        } else {
          mainVerification = checked.verification;
        }
        if (checked.outcome === 'red') {
          await exit(phase, 'failed', describeVerification(checked.verification));
          return await finish(
            'not_verified',
            ExitCode.notVerified,
            `main does not pass its ${phase === 'qa' ? 'gates' : 'health check'} after ${checked.rounds} fix round(s): ${describeVerification(checked.verification)}`,
          );
        }
      }
      await exit(
        phase,
        'passed',
        `${describeMerged(phaseTasks)}${phase === 'qa' || phase === 'deployment' ? `; ${describeVerification(mainVerification)}` : ''}`,
      );
    }

    // Completion: every planned task merged and main verified on the final commit.
    const finalMain = (await runGit(paths.root, ['rev-parse', `refs/heads/${mainBranch}`])).stdout.trim();
    if (mainVerification === null || mainVerification.commit !== finalMain) {
      mainVerification = await verifyMainNow(architecture, true);
    }
    if (!mainVerification.passed) {
      return await finish(
        'not_verified',
        ExitCode.notVerified,
        `main is not verified: ${describeVerification(mainVerification)}`,
      );
    }
    const tasks = (await workspace.queue.list()).filter((task) => task.runId === runId);
    const cancelled = cancelledTasksOf(tasks, runId);
    if (cancelled.length > 0) {
      // Main is green, but what was cancelled was planned and is not built.
      return await finish(
        'not_verified',
        ExitCode.notVerified,
        `${cancelled.length} task(s) were cancelled, so not everything planned was built: ${cancelled.map((task) => task.id).join(', ')}; ${describeVerification(mainVerification)}`,
      );
    }
    return await finish(
      'completed',
      ExitCode.ok,
      `${tasks.length} task(s) merged; ${describeVerification(mainVerification)}`,
    );
  } catch (error) {
    if (options.signal.aborted)
      return await finish('stopped', ExitCode.interrupted, 'stopped by the user; loki resume continues');
    if (isLokiError(error) && error.code === 'BUDGET_EXHAUSTED') {
      return await finish('budget', ExitCode.budgetStop, `the budget cap was reached: ${error.message}`);
    }
    // A full or read-only disk under .loki/, a corrupt store: said as such (one line of advice).
    const workspaceFault = toWorkspaceFault(error, paths);
    if (workspaceFault !== null) {
      // Recording the end may fail from that same fault; the fault itself is what the user is told.
      await finish('failed', workspaceFault.exitCode, workspaceFault.message).catch(() => undefined);
      throw workspaceFault;
    }
    const message = error instanceof Error ? error.message : String(error);
    const exitCode = isLokiError(error) ? error.exitCode : ExitCode.error;
    await finish('failed', exitCode, message).catch(() => undefined);
    throw error;
  }
}

interface GrowthOptions extends RunPipelineOptions {
  prdText: string;
  requirements: RequirementsDocument;
  retry: Parameters<typeof runGrowthPlanning>[0]['retry'];
  budget: ReturnType<typeof createCallBudget>;
  runScheduler: () => Promise<SchedulerResult>;
}

/**
 * Perpetual improvement: each iteration a planning agent proposes improvement tasks (validated),
 * the scheduler merges them, and so on until `maxIterations`, an empty proposal, a stop or the
 * budget. Iterations are numbered in the tasks' payloads, so a resumed run continues the count.
 */
async function runGrowthIterations(
  options: GrowthOptions,
): Promise<{ result: SchedulerResult; details: string }> {
  const { workspace, runId } = options;
  const iterationOf = (task: Task) => {
    const value = (task.payload as { growthIteration?: unknown } | null)?.growthIteration;
    return typeof value === 'number' ? value : 0;
  };
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
    if (options.signal.aborted) return { result: { outcome: 'stopped' }, details: 'stopped' };
    const iteration = done + 1;
    let tasks: ArchitectureDocument['tasks'];
    try {
      tasks = await runGrowthPlanning({
        model: options.source.planningModel({ growthIteration: iteration }),
        provider: options.source.provider,
        prdText: options.prdText,
        requirements: options.requirements,
        iteration,
        existingTasks: await workspace.queue.list(),
        emit: options.emit,
        retry: options.retry,
        runId,
        budget: options.budget,
        signal: options.signal,
      });
    } catch (error) {
      if (isLokiError(error) && error.code === 'SESSION_GROWTH_MISSING') {
        ending = 'the scripted session has no more growth iterations';
        break;
      }
      throw error;
    }
    if (tasks.length === 0) break;
    await enqueuePlannedTasks(
      workspace,
      runId,
      tasks.map((task) => ({ ...task, phase: 'growth' as const })),
      options.maxTaskAttempts ?? 3,
      iteration,
    );
    const result = await options.runScheduler();
    if (result.outcome !== 'done') return { result, details: `stopped in iteration ${iteration}` };
    done = iteration;
    merged += tasks.length;
  }
  return {
    result: { outcome: 'done' },
    details: `${done} growth iteration(s), ${merged} improvement task(s) merged this session; ${ending}`,
  };
}

async function schedulerEnding(
  result: SchedulerResult,
  phase: DeliveryPhase,
  exit: (phase: RunPhase, outcome: 'passed' | 'failed' | 'stopped', details: string) => Promise<void>,
  finish: (status: RunStatusWord, exitCode: number, summary: string) => Promise<RunOutcome>,
): Promise<RunOutcome | null> {
  switch (result.outcome) {
    case 'done':
      return null;
    case 'stopped':
      await exit(phase, 'stopped', 'stopped by the user');
      return finish(
        'stopped',
        ExitCode.interrupted,
        `stopped during ${phase}; loki resume continues where it stopped`,
      );
    case 'budget':
      await exit(phase, 'stopped', 'budget cap reached');
      return finish(
        'budget',
        ExitCode.budgetStop,
        `the budget cap was reached during ${phase}; no new work was started`,
      );
    case 'blocked': {
      const names = result.deadLettered
        .map((task) => `${task.id} (${task.lastError ?? 'failed'})`)
        .join('; ');
      await exit(phase, 'failed', `dead-lettered: ${names}`);
      return finish(
        'blocked',
        ExitCode.blocked,
        `dead-lettered work needs a human: ${names}. Fix the cause, then loki queue retry <id> and loki resume`,
      );
    }
    case 'fatal':
      await exit(
        phase,
        'failed',
        result.error instanceof Error ? result.error.message : String(result.error),
      );
      throw result.error;
    case 'stalled': {
      const names = result.waiting.map((task) => task.id).join(', ');
      await exit(phase, 'failed', `no progress possible: ${names} can never run`);
      return finish(
        'stalled',
        ExitCode.stalled,
        `no progress possible: ${names} wait for work that will not happen (cancelled?)`,
      );
    }
  }
}

function describeMerged(phaseTasks: readonly Task[]): string {
  const cancelled = phaseTasks.filter((task) => task.status === 'cancelled').length;
  const merged = `${phaseTasks.length - cancelled} task(s) merged`;
  return cancelled === 0 ? merged : `${merged}, ${cancelled} cancelled`;
}

/** Projections are for people: a failure to rewrite them (a lock held too long) never fails the run. */
async function refreshProjections(workspace: Workspace): Promise<void> {
  await workspace.refreshProjections().catch(() => undefined);
}

function describeVerification(verification: MainVerification | null): string {
  if (verification === null) return 'main not verified';
  const gates = verification.gates
    .map((gate) => {
      const counts = gate.tests === null ? '' : ` ${gate.tests.passed} passed/${gate.tests.failed} failed`;
      return `\`${gate.command}\` ${gate.passed ? 'passed' : `failed (exit ${gate.exitCode ?? '?'})`}${counts}`;
    })
    .join(', ');
  const health =
    verification.health === null
      ? ''
      : `; GET ${verification.health.healthPath} → ${verification.health.statusCode ?? 'no answer'}`;
  return `${gates}${health}`;
}

async function startOrResumeRun(options: RunPipelineOptions): Promise<Run> {
  const { store } = options.workspace;
  if (options.resume) {
    const latest = await store.getLatestRun();
    if (latest === null || latest.id !== options.runId) {
      throw new LokiError(`run ${options.runId} is not this workspace's latest run`, {
        code: 'RUN_NOT_FOUND',
        category: 'user',
      });
    }
    // Appends run.started (resumed) with the change.
    return store.updateRun(latest.id, {
      resume: true,
      ...(options.settings === undefined ? {} : { settings: options.settings }),
    });
  }
  // Appends run.started with the run.
  return store.createRun({
    id: options.runId,
    prdPath: options.workspace.paths.prdCopy,
    phase: 'bootstrap',
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  });
}
