import type { EvidenceHeadline, ReviewFindingReport } from '../gates/index.ts';
import type { BudgetGovernor } from '../budget/index.ts';
import type { DeploymentResult } from '../deploy/index.ts';
import { ExitCode, isLokiError, LokiError } from '../errors/index.ts';
import type { NewEvent, RunSettingsRecordedData } from '../events/index.ts';
import type { RunPhase } from '../planning/index.ts';
import type { Run } from '../store/index.ts';
import { toWorkspaceFault } from '../workspace/index.ts';
import { finishRun } from './finish-run.ts';
import {
  checkCompletion,
  createRunContext,
  type PhaseVerdict,
  RUN_PHASE_MODULES,
  type RunContext,
  type RunEnding,
  type RunPhaseModule,
} from './phases/index.ts';
import type { RunStatusWord } from './run-report.ts';
import type { RunServices } from './task-worker.ts';
import type { AttachDistributedMerging } from './task-merger.ts';
import type { MainVerification } from './verify-main.ts';

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
  /** Deploy main to the configured target at the end of Deployment (default); false with --no-deploy. */
  deploy?: boolean;
  /**
   * The environment the deploy target sees (a cloud CLI's PATH and credentials); default: the
   * verify environment, which has no credentials, so only the local target is usable with it.
   */
  deployEnvironment?: Readonly<Record<string, string | undefined>>;
  /** Attempts (claims) of one task before it is dead-lettered. */
  maxTaskAttempts?: number;
  /** Fix rounds for a red main at QA and again at Deployment before the run ends not verified (default 2). */
  maxMainFixRounds?: number;
  roundsPerAttempt?: number;
  maxSteps?: number;
  /** Memory one agent needs, for the adaptive worker limit (agent CLIs need much more than in-process loops). */
  memoryPerWorkerBytes?: number;
  pollMilliseconds?: number;
  /** True while the run is paused: the scheduler claims no new task (see RunControlWatch). */
  isPaused?: () => boolean;
  /**
   * Set when the repository is shared through a remote (`loki run --repo`): the run's task workers
   * merge through the merge coordinator, as workers on other machines do. Absent: the local queue.
   */
  distributed?: AttachDistributedMerging;
}

export interface RunOutcome {
  runId: string;
  status: RunStatusWord;
  exitCode: number;
  summary: string;
  /** VERIFIED, VERIFIED WITH GAPS or NOT VERIFIED: what the evidence report says. */
  headline: EvidenceHeadline;
  reportPath: string;
  reportMarkdownPath: string;
  /** The same report as one standalone HTML page. */
  reportHtmlPath: string;
  /** Every blind-review finding of the run and how it was resolved (as in the report). */
  reviewFindings: ReviewFindingReport[];
  mainVerification: MainVerification | null;
  /** The release the run deployed (live or rolled back), or null when it deployed none. */
  deployment: DeploymentResult | null;
}

/**
 * `loki run`: Bootstrap → Discovery → Architecture → Infrastructure → Development → QA → Deployment →
 * Business (→ Growth with `perpetual`), each a module of one shape (phases/run-phase-module.ts),
 * then the completion check. Every phase is idempotent, so resuming simply runs the pipeline
 * again: kept specs are re-validated instead of re-planned, tasks already in the queue are not
 * added twice, merged work is recognised on main and never redone. The model proposes; the code
 * checks every entry and exit criterion and decides the outcome.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<RunOutcome> {
  const run = await startOrResumeRun(options);
  const context = await createRunContext(options, run.id);
  try {
    for (const phase of RUN_PHASE_MODULES) {
      if (phase.isPartOfRun?.(context) === false) continue;
      const verdict = await runPhase(context, phase);
      if (verdict.outcome === 'passed') continue;
      if ('error' in verdict) throw verdict.error;
      return await finishRun(context, verdict.ending);
    }
    return await finishRun(context, await checkCompletion(context));
  } catch (error) {
    const failure = runFailureOf(error, context);
    if (!('rethrow' in failure)) return await finishRun(context, failure.ending);
    // Recording the end may fail from that same fault; the failure itself is what the user is told.
    await finishRun(context, failure.ending).catch(() => undefined);
    throw failure.rethrow;
  }
}

/** One phase: phase.entered → entry criteria → its steps, each with its exit criterion → phase.exited. */
async function runPhase(context: RunContext, phase: RunPhaseModule): Promise<PhaseVerdict> {
  await enterPhase(context, phase.name);
  const verdict = await judgePhase(context, phase);
  await exitPhase(context, phase.name, verdict);
  return verdict;
}

async function judgePhase(context: RunContext, phase: RunPhaseModule): Promise<PhaseVerdict> {
  const missing = phase.needs.filter((product) => context.products[product] === null);
  if (missing.length > 0) {
    const details = `entry criteria not met: no ${missing.join(', ')} from an earlier phase`;
    const summary = `${phase.name} could not start: ${details}`;
    return { outcome: 'failed', details, ending: { outcome: 'failed', exitCode: ExitCode.error, summary } };
  }
  const details: string[] = [];
  for (const step of phase.steps) {
    const verdict = await step(context, phase.name);
    if (verdict.outcome !== 'passed') return verdict;
    details.push(verdict.details);
  }
  return { outcome: 'passed', details: details.join('; ') };
}

// Phase events go straight to the store after everything emitted before them, so the trail reads in order.
async function enterPhase(context: RunContext, phase: RunPhase): Promise<void> {
  await context.options.flush?.();
  await context.workspace.store.updateRun(context.runId, { phase }); // appends phase.entered with the change
}

async function exitPhase(context: RunContext, phase: RunPhase, verdict: PhaseVerdict): Promise<void> {
  await context.options.flush?.();
  await context.workspace.store.appendEvent({
    type: 'phase.exited',
    runId: context.runId,
    taskId: null,
    data: { phase, outcome: verdict.outcome, details: verdict.details },
  });
}

/**
 * How an error thrown by a phase ends the run: a stop and the budget cap are endings like any
 * other; anything else ends it failed and is thrown on (a workspace fault as such, with its advice).
 */
function runFailureOf(error: unknown, context: RunContext): { ending: RunEnding; rethrow?: unknown } {
  if (context.options.signal.aborted) {
    const summary = 'stopped by the user; loki resume continues';
    return { ending: { outcome: 'stopped', exitCode: ExitCode.interrupted, summary } };
  }
  if (isLokiError(error) && error.code === 'BUDGET_EXHAUSTED') {
    const summary = `the budget cap was reached: ${error.message}`;
    return { ending: { outcome: 'budget', exitCode: ExitCode.budgetStop, summary } };
  }
  // A full or read-only disk under .loki/, a corrupt store: said as such (one line of advice).
  const workspaceFault = toWorkspaceFault(error, context.workspace.paths);
  if (workspaceFault !== null) {
    const ending: RunEnding = {
      outcome: 'failed',
      exitCode: workspaceFault.exitCode,
      summary: workspaceFault.message,
    };
    return { ending, rethrow: workspaceFault };
  }
  const summary = error instanceof Error ? error.message : String(error);
  const exitCode = isLokiError(error) ? error.exitCode : ExitCode.error;
  return { ending: { outcome: 'failed', exitCode, summary }, rethrow: error };
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
