import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BudgetGovernor, createCallBudget } from '../budget/index.ts';
import { ExitCode, isLokiError, LokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import { ensureInitialCommit, runGit } from '../git/index.ts';
import {
  ARCHITECTURE_JSON_FILE,
  type ArchitectureDocument,
  DELIVERY_PHASES,
  type DeliveryPhase,
  phaseOfTask,
  REQUIREMENTS_JSON_FILE,
  type RequirementsDocument,
  runArchitecture,
  runDiscovery,
  runGrowthPlanning,
  type RunPhase,
  validateArchitecture,
  validateRequirements,
  writeArchitectureSpecs,
  writeRequirementsSpecs,
} from '../planning/index.ts';
import { priceUsage } from '../providers/index.ts';
import { MAX_OUTPUT_TOKENS_PER_CALL, taskRetryPolicy } from '../runtime/index.ts';
import type { Run, Task } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';
import { MergeQueue } from './merge-queue.ts';
import { MergedWorkIndex, readMergedTasks } from './merged-work.ts';
import { buildRunReport, type RunStatusWord, writeRunReport } from './run-report.ts';
import { runScheduler, type SchedulerResult } from './scheduler.ts';
import type { RunServices, TaskWorkerContext } from './task-worker.ts';
import { type MainVerification, verifyMain } from './verify-main.ts';
import { WorkerLimiter } from './worker-limit.ts';

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
  signal: AbortSignal;
  /** Records an event (asynchronously, in order). */
  emit: (event: NewEvent) => void;
  /** Resolves once every event emitted so far is in the store, so phase events land in order. */
  flush?: () => Promise<void>;
  /** Attempts (claims) of one task before it is dead-lettered. */
  maxTaskAttempts?: number;
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
  });

  const finish = async (status: RunStatusWord, exitCode: number, summary: string): Promise<RunOutcome> => {
    await mergeQueue.close().catch(() => undefined);
    await removeLeftoverWorktrees(paths.root, join(paths.lokiDirectory, 'worktrees'));
    const runStatus =
      status === 'completed'
        ? 'completed'
        : status === 'stopped' || status === 'budget'
          ? 'stopped'
          : 'failed';
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
    const written = writeRunReport(join(paths.lokiDirectory, 'artifacts', 'reports'), report);
    await refreshProjections(workspace);
    await options.flush?.();
    await workspace.store.updateRun(runId, { status: runStatus });
    await workspace.store.appendEvent({ type: 'run.ended', runId, taskId: null, data: { status } });
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
    };
    const limiter = new WorkerLimiter({
      requested: options.parallel,
      memoryPerWorkerBytes: options.memoryPerWorkerBytes ?? 64 * 1024 * 1024,
    });
    const phases = DELIVERY_PHASES.filter((phase) => phase !== 'growth' || options.perpetual);
    for (const phase of phases) {
      await enter(phase);
      const planned = architecture.tasks.filter((task) => phaseOfTask(task) === phase);
      await enqueuePlannedTasks(workspace, runId, planned, options.maxTaskAttempts ?? 3);
      const result = await runScheduler({
        context: workerContext,
        workerLimit: () => limiter.current(),
        requestedWorkers: options.parallel,
        workerIdPrefix: `run:${runId}:${process.pid}`,
        ...(options.pollMilliseconds === undefined ? {} : { pollMilliseconds: options.pollMilliseconds }),
      });
      const ended = await schedulerEnding(result, phase, exit, finish);
      if (ended !== null) return ended;
      const phaseTasks = (await workspace.queue.list()).filter(
        (task) => task.runId === runId && planned.some((plannedTask) => plannedTask.id === task.id),
      );
      const unmerged = phaseTasks.filter((task) => task.status !== 'completed');
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
          runScheduler: () =>
            runScheduler({
              context: workerContext,
              workerLimit: () => limiter.current(),
              requestedWorkers: options.parallel,
              workerIdPrefix: `run:${runId}:${process.pid}`,
              ...(options.pollMilliseconds === undefined
                ? {}
                : { pollMilliseconds: options.pollMilliseconds }),
            }),
        });
        if (growth.result.outcome !== 'done') {
          const ended = await schedulerEnding(growth.result, phase, exit, finish);
          if (ended !== null) return ended;
        }
        await exit(phase, 'passed', growth.details);
        continue;
      }
      if (phase === 'qa' || phase === 'deployment') {
        // QA: the project's gates pass on main. Deployment: the product also boots and answers its health path.
        mainVerification = await verifyMainNow(architecture, phase === 'deployment');
        if (!mainVerification.passed) {
          await exit(phase, 'failed', describeVerification(mainVerification));
          return await finish(
            'not_verified',
            ExitCode.notVerified,
            `main does not pass its ${phase === 'qa' ? 'gates' : 'health check'}: ${describeVerification(mainVerification)}`,
          );
        }
      }
      await exit(
        phase,
        'passed',
        `${planned.length} task(s) merged${phase === 'qa' || phase === 'deployment' ? `; ${describeVerification(mainVerification)}` : ''}`,
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
    const run = await store.updateRun(latest.id, { status: 'running' });
    options.emit({ type: 'run.started', runId: run.id, taskId: null, data: { prdPath: run.prdPath } });
    return run;
  }
  const run = await store.createRun({
    id: options.runId,
    prdPath: options.workspace.paths.prdCopy,
    phase: 'bootstrap',
  });
  options.emit({ type: 'run.started', runId: run.id, taskId: null, data: { prdPath: run.prdPath } });
  return run;
}

async function currentBranch(root: string): Promise<string> {
  const result = await runGit(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true });
  const branch = result.stdout.trim();
  if (result.exitCode !== 0 || branch === '') {
    throw new LokiError(
      'the workspace repository has a detached HEAD; check out the branch Loki should merge into (e.g. git switch main) and run again',
      { code: 'RUN_DETACHED_HEAD', category: 'user' },
    );
  }
  return branch;
}

/**
 * A run killed between moving main and updating the checked-out files leaves the checkout's index
 * and files at an older main. When the index is exactly an earlier commit of main (so nothing of
 * the user's is staged), a two-tree read-tree brings index and files forward, keeping unrelated
 * local edits and refusing to overwrite conflicting ones. Returns whether it moved anything.
 */
async function bringStaleCheckoutForward(root: string, mainBranch: string): Promise<boolean> {
  const head = await runGit(root, ['symbolic-ref', '--quiet', 'HEAD'], { allowFailure: true });
  if (head.stdout.trim() !== `refs/heads/${mainBranch}`) return false;
  const clean = await runGit(root, ['diff', '--cached', '--quiet', 'HEAD'], { allowFailure: true });
  if (clean.exitCode === 0) return false;
  const indexTree = (await runGit(root, ['write-tree'], { allowFailure: true })).stdout.trim();
  const history = await runGit(root, ['log', '--format=%T', '-n', '1000', mainBranch]);
  if (indexTree === '' || !history.stdout.split('\n').includes(indexTree)) return false;
  const readTree = await runGit(root, ['read-tree', '-m', '-u', indexTree, 'HEAD'], { allowFailure: true });
  return readTree.exitCode === 0;
}

/** Worktrees of a previous process (killed or stopped) are removed; their branches keep the checkpoints. */
async function removeLeftoverWorktrees(root: string, worktreesDirectory: string): Promise<void> {
  await runGit(root, ['worktree', 'prune'], { allowFailure: true });
  const listing = await runGit(root, ['worktree', 'list', '--porcelain'], { allowFailure: true });
  for (const line of listing.stdout.split('\n')) {
    if (!line.startsWith('worktree ')) continue;
    const path = line.slice('worktree '.length);
    if (path.startsWith(`${worktreesDirectory}/`)) {
      await runGit(root, ['worktree', 'remove', '--force', path], { allowFailure: true });
    }
  }
  rmSync(worktreesDirectory, { recursive: true, force: true });
  await runGit(root, ['worktree', 'prune'], { allowFailure: true });
}

/**
 * Tasks this run's earlier process held when it died go straight back to the queue: this process
 * holds the run lock, so their workers are gone for sure (waiting for the lease to expire would
 * only waste time), and an interruption is not the task's failure.
 */
async function releaseTasksOfDeadWorkers(workspace: Workspace, runId: string): Promise<number> {
  const ownPrefix = `run:${runId}:${process.pid}:`;
  const held = await workspace.queue.list({ statuses: ['in_progress'] });
  let released = 0;
  for (const task of held) {
    const holder = task.claimedBy ?? '';
    if (holder.startsWith(`run:${runId}:`) && !holder.startsWith(ownPrefix)) {
      await workspace.queue.release(task.id, null, 'the run that held it was interrupted');
      released += 1;
    }
  }
  return released;
}

function readValidRequirements(specsDirectory: string): RequirementsDocument | null {
  const document = readJson(join(specsDirectory, REQUIREMENTS_JSON_FILE));
  if (document === undefined) return null;
  const validation = validateRequirements(document);
  return validation.ok ? validation.requirements : null;
}

function readValidArchitecture(
  specsDirectory: string,
  requirements: RequirementsDocument,
): ArchitectureDocument | null {
  const document = readJson(join(specsDirectory, ARCHITECTURE_JSON_FILE));
  if (document === undefined) return null;
  const validation = validateArchitecture(document, requirements.requirements);
  return validation.ok ? validation.architecture : null;
}

function readJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Adds the phase's planned tasks to the queue once: a resumed run finds them there and adds none. */
async function enqueuePlannedTasks(
  workspace: Workspace,
  runId: string,
  planned: ArchitectureDocument['tasks'],
  maxAttempts: number,
  growthIteration?: number,
): Promise<Task[]> {
  const existing = new Map((await workspace.queue.list()).map((task) => [task.id, task]));
  for (const task of planned) {
    const found = existing.get(task.id);
    if (found !== undefined && found.runId !== runId) {
      throw new LokiError(
        `task "${task.id}" already exists in this workspace from another run (${found.runId ?? 'added by hand'}); run the new plan in a fresh directory`,
        { code: 'RUN_TASK_ID_TAKEN', category: 'user', context: { taskId: task.id } },
      );
    }
  }
  const missing = planned.filter((task) => !existing.has(task.id));
  if (missing.length === 0) return [];
  return workspace.queue.enqueueMany(
    missing.map((task) => ({
      id: task.id,
      type: task.agentType,
      title: task.title,
      description: [
        task.description,
        '',
        'Acceptance criteria:',
        ...task.acceptanceCriteria.map((criterion) => `- ${criterion}`),
        '',
        `Requirements: ${task.requirementIds.join(', ') || 'none'}`,
        ...(task.touches.length === 0 ? [] : [`Expected to touch: ${task.touches.join(', ')}`]),
      ].join('\n'),
      priority: task.priority,
      dependencies: task.dependencies,
      runId,
      maxAttempts,
      idempotencyKey: `run:${runId}:task:${task.id}`,
      payload: {
        verifyCommands: task.verifyCommands,
        acceptanceCriteria: task.acceptanceCriteria,
        requirementIds: task.requirementIds,
        complexity: task.complexity,
        touches: task.touches,
        phase: phaseOfTask(task),
        ...(growthIteration === undefined ? {} : { growthIteration }),
      },
    })),
  );
}
