import { join, resolve } from 'node:path';
import { openRunGovernor } from '../budget/index.ts';
import { loadCircuitBreakerConfig, type ResolvedConfig } from '../config/index.ts';
import { GitRemoteSync, RemoteMerger, RemoteRetry, StoreWakeup } from '../distributed/index.ts';
import { usageError } from '../errors/index.ts';
import { runGit } from '../git/index.ts';
import {
  MergedWorkIndex,
  readRecordedProjectGates,
  removeLeftoverWorktrees,
  runScheduler,
  type TaskWorkerContext,
  WorkerLimiter,
  WorkerPresence,
  workerProcessId,
} from '../orchestrator/index.ts';
import { loadScriptedSession } from '../providers/index.ts';
import { buildSandboxEnvironment, detectCommandRunner } from '../sandbox/index.ts';
import { redactPostgresUrl, type Run, type RunStatus } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';
import { createAppAgentSource, selectRunProvider } from './app-agent-source.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace, resolveAppConfig } from './open-app-workspace.ts';
import { OrderedEventWriter } from './ordered-event-writer.ts';
import { parseWholeNumberOption } from './parse-whole-number.ts';
import { describeRunSettings, modelOverridesOf, resolveRunSettings } from './run-settings.ts';
import { startSandboxNetwork } from './start-sandbox-network.ts';
import { watchServedRun } from './watch-served-run.ts';
import { prepareWorkerClone } from './worker-clone.ts';

export interface WorkerRequest {
  /** The run's shared git remote (`--repo`). */
  repoUrl: string;
  /** The worker's own clone (`--dir`, default ./loki-worker). */
  directory?: string;
  /** Agents at once (`--parallel`, default: the configuration's maxParallelAgents). */
  parallel?: string;
  /** Only tasks of these agent types (`--types a,b`). */
  types?: readonly string[];
  /** Aborting it stops the worker gracefully: agents stopped, tasks released. */
  stopSignal: AbortSignal;
}

export interface WorkerObserver {
  started?(start: { workerId: string; directory: string; store: string }): void;
  /** The worker found the store's running run and works on it. */
  serving?(serving: { runId: string; settings: string; model: string; parallel: number }): void;
  /** One of this worker's tasks ended a claim (merged, deferred, failed, released…). */
  taskEnded?(ended: { taskId: string; outcome: string }): void;
  warning?(text: string): void;
}

export type WorkerResult =
  /** The run it served has ended (completed, stopped or failed): the worker's part is done. */
  | { kind: 'run_ended'; runId: string; status: RunStatus; merged: number }
  /** Stopped by its own signal (Ctrl-C, SIGTERM): its tasks went back to the queue. */
  | { kind: 'stopped'; runId: string | null; merged: number };

/**
 * `loki worker`: a worker on any machine for the run in a shared PostgreSQL store. It keeps its own
 * clone of the run's remote, waits (idle, woken by the store's commits) for a running run, takes the
 * run's recorded settings (provider, model, script), claims tasks with the scheduler into local
 * worktrees, and merges through the run's merge coordinator (the remote merger). It returns when the
 * run has ended, or on its stop signal after releasing its tasks.
 */
export async function runWorker(
  context: AppContext,
  request: WorkerRequest,
  observer: WorkerObserver = {},
): Promise<WorkerResult> {
  const config = resolveAppConfig(context);
  if (config.values.store === '') {
    throw usageError(
      'WORKER_STORE_REQUIRED',
      'loki worker serves a run in a shared PostgreSQL store: give --store postgres://USER:PASSWORD@HOST:PORT/DATABASE (or LOKI_STORE_URL)',
    );
  }
  const parallel =
    request.parallel === undefined
      ? config.values.maxParallelAgents
      : parseWholeNumberOption(request.parallel, '--parallel', 256);
  const directory = resolve(context.cwd, request.directory ?? 'loki-worker');
  await prepareWorkerClone(directory, request.repoUrl);
  const workerContext: AppContext = { ...context, cwd: directory };
  await using workspace = await openAppWorkspace(workerContext);
  await removeLeftoverWorktrees(directory, join(workspace.paths.lokiDirectory, 'worktrees'));
  const workerId = workerProcessId();
  observer.started?.({ workerId, directory, store: redactPostgresUrl(config.values.store) });
  // In the store's worker registry from now on (`loki workers`, status, dashboard), idle or not.
  await using _presence = await WorkerPresence.start({
    store: workspace.store,
    id: workerId,
    role: 'worker',
    runId: null,
    parallel,
    types: request.types ?? null,
    ...(observer.warning === undefined ? {} : { onTrouble: observer.warning }),
  });
  const run = await waitForRunningRun(workspace, request.stopSignal);
  if (run === null) return { kind: 'stopped', runId: null, merged: 0 };
  return await serveRun({
    context: workerContext,
    config,
    workspace,
    run,
    request,
    observer,
    workerId,
    parallel,
  });
}

/** The store's running run, once there is one; null when the stop signal came first. */
async function waitForRunningRun(workspace: Workspace, signal: AbortSignal): Promise<Run | null> {
  using wakeup = new StoreWakeup(workspace.store, 2000);
  for (;;) {
    if (signal.aborted) return null;
    const run = await workspace.store.getLatestRun();
    if (run !== null && run.status === 'running') return run;
    await wakeup.wait(signal);
  }
}

interface ServedRun {
  context: AppContext;
  config: ResolvedConfig;
  workspace: Workspace;
  run: Run;
  request: WorkerRequest;
  observer: WorkerObserver;
  workerId: string;
  parallel: number;
}

/** Works on the run's tasks until it ends or the worker is stopped. */
async function serveRun(served: ServedRun): Promise<WorkerResult> {
  const { workspace, run, request, observer } = served;
  const agents = await prepareWorkerAgents(served);
  await using _network = agents.network;
  const controller = new AbortController();
  const onStop = () => controller.abort(new Error('stopped by the user'));
  if (request.stopSignal.aborted) onStop();
  request.stopSignal.addEventListener('abort', onStop, { once: true });
  const writer = new OrderedEventWriter({
    store: workspace.store,
    paths: workspace.paths,
    onFailure: (error) => controller.abort(error),
  });
  let failure: { error: unknown } | null = null;
  // The run's end, a stop request (loki stop anywhere) and a pause are read from the run's row.
  using watch = watchServedRun({
    store: workspace.store,
    runId: run.id,
    onStop,
    onError: (error) => {
      failure ??= { error };
      controller.abort(error);
    },
    signal: controller.signal,
  });
  const taskContext = await workerTaskContext(served, agents, controller.signal, writer);
  const limiter = new WorkerLimiter({
    requested: served.parallel,
    memoryPerWorkerBytes: 64 * 1024 * 1024,
    followLoad: served.config.values.followMachineLoad,
  });
  let merged = 0;
  try {
    while (!controller.signal.aborted && !watch.hasEnded) {
      const result = await runScheduler({
        context: taskContext,
        workerLimit: () => limiter.current(),
        requestedWorkers: served.parallel,
        workerIdPrefix: served.workerId,
        ...(request.types === undefined ? {} : { types: request.types }),
        isPaused: () => watch.isPaused,
        onOutcome: (task, outcome) => {
          if (outcome === 'merged') merged += 1;
          observer.taskEnded?.({ taskId: task.id, outcome });
        },
      });
      if (result.outcome === 'fatal') throw result.error;
      // Nothing claimable for now: the coordinator plans more (later phases, fixes) or ends the run.
      await watch.changed(controller.signal);
    }
  } finally {
    request.stopSignal.removeEventListener('abort', onStop);
    await writer.flush();
  }
  if (writer.failure !== null) throw writer.failure;
  if (failure !== null) throw (failure as { error: unknown }).error;
  if (watch.hasEnded) return { kind: 'run_ended', runId: run.id, status: watch.status, merged };
  return { kind: 'stopped', runId: run.id, merged };
}

/** The agents of the run as it recorded them (provider, model, script), on this machine's sandbox. */
async function prepareWorkerAgents(served: ServedRun) {
  const { context, config, run, workspace, observer } = served;
  const resolved = resolveRunSettings({
    flags: {},
    config,
    recorded: run.settings,
    cwd: context.cwd,
    store: { kind: 'postgres', location: redactPostgresUrl(config.values.store) },
    selectProvider: (choice) => selectRunProvider(context, config.values, choice),
  });
  const settings = resolved.settings;
  const network = await startSandboxNetwork({
    config: config.values,
    provider: resolved.selection.provider,
    env: context.env,
    warn: (text) => observer.warning?.(text),
  });
  const detection = await detectCommandRunner({ env: context.env, network: network.access });
  const scripted =
    settings.provider === 'scripted' && settings.script !== null
      ? { session: loadScriptedSession(settings.script), origin: settings.script }
      : undefined;
  const source = createAppAgentSource(context, {
    provider: resolved.selection.provider,
    runner: detection.runner,
    sandboxNetwork: network.access,
    logsDirectory: workspace.paths.logsDirectory,
    modelOverrides: modelOverridesOf(settings),
    ...(scripted === undefined ? {} : { scripted }),
  });
  observer.serving?.({
    runId: run.id,
    settings: describeRunSettings(resolved),
    model: source.description,
    parallel: served.parallel,
  });
  // The run's shared ledger with the cap its coordinator stored: every machine spends from one budget.
  const { governor } = await openRunGovernor(workspace.store, { runId: run.id });
  return { network, runner: detection.runner, source, governor };
}

async function workerTaskContext(
  served: ServedRun,
  agents: Awaited<ReturnType<typeof prepareWorkerAgents>>,
  signal: AbortSignal,
  writer: OrderedEventWriter,
): Promise<TaskWorkerContext> {
  const { context, config, workspace, run } = served;
  const root = workspace.paths.root;
  const mainBranch = await remoteMainBranch(root);
  const merged = await MergedWorkIndex.load(root, mainBranch);
  // One count of remote failures for the clone: an outage is one warning line that grows, not a
  // task failure after another.
  const retry = new RemoteRetry({
    remoteUrl: served.request.repoUrl,
    clock: context.clock,
    onUnavailable: (text) => served.observer.warning?.(text),
  });
  return {
    workspace,
    runId: run.id,
    mainBranch,
    mergeQueue: new RemoteMerger({
      repositoryRoot: root,
      remoteUrl: served.request.repoUrl,
      store: workspace.store,
      runId: run.id,
      retry,
    }),
    remote: new GitRemoteSync({
      repositoryRoot: root,
      remoteUrl: served.request.repoUrl,
      mainBranch,
      followMain: true,
      onMainMoved: () => merged.reload(root, mainBranch),
      retry,
    }),
    merged,
    source: agents.source,
    runner: agents.runner,
    verifyEnvironment: buildSandboxEnvironment(context.env),
    config: config.values,
    breakerConfig: loadCircuitBreakerConfig(root),
    clock: context.clock,
    governor: agents.governor,
    emit: writer.emit,
    signal,
    roundsPerAttempt: 3,
    maxSteps: 50,
    // The gates the coordinator will hold the merge to, as it recorded them in the store: this
    // clone of the remote has no architecture, and what is in it an agent could have written.
    projectGates: () => readRecordedProjectGates(workspace.store, run.id),
  };
}

/** The branch the run merges into: the remote's default branch, as the clone recorded it. */
async function remoteMainBranch(root: string): Promise<string> {
  const head = await runGit(root, ['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], {
    allowFailure: true,
  });
  const name = head.stdout.trim().replace(/^refs\/remotes\/origin\//, '');
  return head.exitCode === 0 && name !== '' ? name : 'main';
}
