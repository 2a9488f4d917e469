import { join } from 'node:path';
import { createCallBudget, phaseCallTaskId } from '../../budget/index.ts';
import { type GatesConfig, loadGatesConfig } from '../../config/index.ts';
import type { DeploymentResult } from '../../deploy/index.ts';
import { LokiError } from '../../errors/index.ts';
import type { NewEvent } from '../../events/index.ts';
import { ALL_GATES } from '../../gates/index.ts';
import type { ArchitectureDocument, RequirementsDocument } from '../../planning/index.ts';
import { priceUsage } from '../../providers/index.ts';
import { MAX_OUTPUT_TOKENS_PER_CALL, type TaskRetryPolicy, taskRetryPolicy } from '../../runtime/index.ts';
import type { Workspace } from '../../workspace/index.ts';
import { gateEvaluatedEvent } from '../gate-evaluated-event.ts';
import type { StageGateSettings } from '../merge-gate-check.ts';
import { MergeQueue } from '../merge-queue.ts';
import { MergedWorkIndex } from '../merged-work.ts';
import { currentBranch } from '../recover-workspace.ts';
import type { RunPipelineOptions } from '../run-pipeline.ts';
import { runScheduler, type SchedulerResult } from '../scheduler.ts';
import type { DistributedMerging, TaskMerger } from '../task-merger.ts';
import type { TaskWorkerContext } from '../task-worker.ts';
import { type MainVerification, verifyMain } from '../verify-main.ts';
import { WorkerLimiter } from '../worker-limit.ts';
import { runWorkerId } from '../worker-presence.ts';

/** What the phases produce for the later ones. Each has one writer, named here. */
export interface RunProducts {
  /** The PRD (Bootstrap). */
  prdText: string | null;
  /** The validated requirements (Discovery). */
  requirements: RequirementsDocument | null;
  /** The validated design and task DAG (Architecture). */
  architecture: ArchitectureDocument | null;
  /** The latest verification of main (QA, Deployment, and the completion check). */
  mainVerification: MainVerification | null;
  /** The release of main put live, or rolled back (Deployment); null when none was deployed. */
  deployment: DeploymentResult | null;
}

/** A planning agent's retry policy and budget (Discovery, Architecture, Growth). */
export interface PlanningAgentServices {
  retry: TaskRetryPolicy;
  budget: ReturnType<typeof createCallBudget>;
}

/** What every phase works with: the run, what earlier phases produced, and the means to do work. */
export interface RunContext {
  readonly options: RunPipelineOptions;
  readonly runId: string;
  readonly workspace: Workspace;
  /** Records an event of this run (its run id filled in). */
  readonly emit: (event: NewEvent) => void;
  readonly mergeQueue: MergeQueue;
  /** What the run's task workers merge with: the merge queue, or on a distributed run the coordinator's. */
  readonly taskMerger: TaskMerger;
  /** Set on a distributed run (`--repo`): the merge coordinator beside the run, closed when it ends. */
  readonly distributed: DistributedMerging | null;
  /** `.loki/config/gates.yaml`, read once when the run started. */
  readonly gates: GatesConfig;
  /** The branch work merges into (written by Bootstrap once the repository has a commit). */
  mainBranch: string;
  readonly products: RunProducts;
  /** Runs the run's ready tasks (of any phase) until the queue has nothing more for now. */
  runTasks(): Promise<SchedulerResult>;
  /** The harness's evidence about main: the product's gates, and with `checkBoot` its health check. */
  verifyMain(checkBoot: boolean): Promise<MainVerification>;
  planningAgent(phase: string): PlanningAgentServices;
}

export async function createRunContext(options: RunPipelineOptions, runId: string): Promise<RunContext> {
  const { workspace } = options;
  const paths = workspace.paths;
  const products: RunProducts = {
    prdText: null,
    requirements: null,
    architecture: null,
    mainVerification: null,
    deployment: null,
  };
  // Read once, before any work: a broken gates.yaml stops the run at its start (exit 2).
  const gates = loadGatesConfig(
    paths.root,
    ALL_GATES.map((gate) => gate.name),
  );
  const emit = (event: NewEvent) => options.emit({ ...event, runId: event.runId ?? runId });
  const mergeQueue = await createMergeQueue(options, runId, gates, products, emit);
  const distributed =
    options.distributed?.({ mergeQueue, runId, mainBranch: await currentBranch(paths.root) }) ?? null;
  // The planning agents get the same retry policy (and provider breaker) as the task agents.
  const planningRetry = taskRetryPolicy({
    config: options.config,
    breakerConfig: options.breakerConfig,
    clock: options.clock,
    store: workspace.store,
    provider: options.source.provider,
    agentType: 'orchestrator',
  });
  let scheduling: (() => Promise<SchedulerResult>) | null = null;
  const context: RunContext = {
    options,
    runId,
    workspace,
    emit,
    mergeQueue,
    taskMerger: distributed?.merger ?? mergeQueue,
    distributed,
    gates,
    mainBranch: 'main',
    products,
    runTasks: async () => {
      scheduling ??= await createTaskScheduling(context);
      return scheduling();
    },
    verifyMain: (checkBoot) => {
      const plan = need(context, 'architecture');
      return verifyMain({
        repositoryRoot: paths.root,
        worktreesDirectory: join(paths.lokiDirectory, 'worktrees'),
        mainBranch: context.mainBranch,
        commands: plan.verifyCommands,
        deployment: plan.deployment,
        checkBoot,
        runner: options.runner,
        env: options.verifyEnvironment,
        emit: context.emit,
        runId,
        qualityGates: {
          stage: checkBoot ? 'deployment' : 'qa',
          settings: stageSettings(gates, checkBoot ? 'deployment' : 'qa'),
          now: () => options.clock.now(),
        },
        signal: options.signal,
      });
    },
    planningAgent: (phase) => ({
      retry: planningRetry,
      budget: createCallBudget(options.governor, {
        taskId: phaseCallTaskId(phase),
        agentType: 'orchestrator',
        maxOutputTokens: MAX_OUTPUT_TOKENS_PER_CALL,
        priceUsage,
      }),
    }),
  };
  return context;
}

/** The run's merge queue: every merge result held to the project's gates and the merge-stage quality gates. */
async function createMergeQueue(
  options: RunPipelineOptions,
  runId: string,
  gates: GatesConfig,
  products: RunProducts,
  emit: (event: NewEvent) => void,
): Promise<MergeQueue> {
  const paths = options.workspace.paths;
  return new MergeQueue({
    repositoryRoot: paths.root,
    workDirectory: join(paths.lokiDirectory, 'worktrees'),
    commandRunner: options.runner,
    verifyEnvironment: options.verifyEnvironment,
    mainBranch: await currentBranch(paths.root),
    // Every merge result must pass the project's gates too (known once Architecture has run).
    projectGates: () => products.architecture?.verifyCommands ?? [],
    mergeGates: () => stageSettings(gates, 'merge'),
    onGateEvaluated: ({ taskId, commit, result, blocks }) =>
      emit(gateEvaluatedEvent({ runId, taskId, stage: 'merge', commit, result, blocks })),
    now: () => options.clock.now(),
    signal: options.signal,
  });
}

function stageSettings(gates: GatesConfig, stage: 'merge' | 'qa' | 'deployment'): StageGateSettings {
  return { gates: gates.stages[stage], nonBlocking: gates.nonBlocking, thresholds: gates.thresholds };
}

/** A product of an earlier phase; the pipeline checked a phase's `needs` before its steps run. */
export function need<Name extends keyof RunProducts>(
  context: RunContext,
  name: Name,
): NonNullable<RunProducts[Name]> {
  const value = context.products[name];
  if (value === null || value === undefined) {
    throw new LokiError(`the run has no ${name} yet: a phase ran before the one that produces it`, {
      code: 'RUN_PHASE_ORDER',
      category: 'internal',
    });
  }
  return value;
}

/** The scheduler over the task workers, set up once the architecture (the project's gates) is known. */
async function createTaskScheduling(context: RunContext): Promise<() => Promise<SchedulerResult>> {
  const { options, runId, workspace } = context;
  const workerContext: TaskWorkerContext = {
    merged: await MergedWorkIndex.load(workspace.paths.root, context.mainBranch),
    workspace,
    runId,
    mainBranch: context.mainBranch,
    mergeQueue: context.taskMerger,
    ...(context.distributed === null ? {} : { remote: context.distributed.remote }),
    source: options.source,
    runner: options.runner,
    verifyEnvironment: options.verifyEnvironment,
    config: options.config,
    breakerConfig: options.breakerConfig,
    clock: options.clock,
    governor: options.governor,
    emit: context.emit,
    signal: options.signal,
    roundsPerAttempt: options.roundsPerAttempt ?? 3,
    maxSteps: options.maxSteps ?? 50,
    projectGates: () => Promise.resolve(need(context, 'architecture').verifyCommands),
  };
  const limiter = new WorkerLimiter({
    requested: options.parallel,
    memoryPerWorkerBytes: options.memoryPerWorkerBytes ?? 64 * 1024 * 1024,
    followLoad: options.config.followMachineLoad,
  });
  return () =>
    runScheduler({
      context: workerContext,
      // --parallel 0 (a coordinator leaving every task to workers elsewhere): no agent here at all,
      // where the machine's limiter never goes below one.
      workerLimit: () =>
        options.parallel === 0 ? { limit: 0, reason: null, changed: false } : limiter.current(),
      requestedWorkers: options.parallel,
      workerIdPrefix: runWorkerId(runId),
      ...(options.pollMilliseconds === undefined ? {} : { pollMilliseconds: options.pollMilliseconds }),
      ...(options.isPaused === undefined ? {} : { isPaused: options.isPaused }),
    });
}
