import { existsSync } from 'node:fs';
import { loadAlertingConfig, startRunAlerting } from '../alerting/index.ts';
import { type BudgetSummary, openRunGovernor } from '../budget/index.ts';
import { randomId } from '../clock/index.ts';
import { loadCircuitBreakerConfig, type ResolvedConfig } from '../config/index.ts';
import { runDoctor } from '../doctor/index.ts';
import { usageError } from '../errors/index.ts';
import type { LokiEvent } from '../events/index.ts';
import type { CoordinatorLock } from '../distributed/index.ts';
import {
  acquireRunLock,
  type AttachDistributedMerging,
  RunControlWatch,
  type RunOutcome,
  runPipeline,
  runWorkerId,
  WorkerPresence,
} from '../orchestrator/index.ts';
import { loadScriptedSession, type ScriptedSession } from '../providers/index.ts';
import { buildSandboxEnvironment, detectCommandRunner, type SandboxNetworkAccess } from '../sandbox/index.ts';
import { startSandboxNetwork } from './start-sandbox-network.ts';
import { redactPostgresUrl, type Run, type Store } from '../store/index.ts';
import {
  assertStoreNotLost,
  initWorkspace,
  openWorkspaceStore,
  readPrd,
  toWorkspaceFault,
  type Workspace,
  workspacePaths,
} from '../workspace/index.ts';
import { createAppAgentSource, selectRunProvider } from './app-agent-source.ts';
import { checkCoordinatorWorkspace, coordinatorMerging, takeCoordinatorLock } from './coordinate-run.ts';
import type { AppContext } from './app-context.ts';
import { followRun } from './follow-run.ts';
import { openAppWorkspace, resolveAppConfig } from './open-app-workspace.ts';
import { OrderedEventWriter } from './ordered-event-writer.ts';
import type { RunProgress } from './run-progress.ts';
import {
  describeRunSettings,
  modelOverridesOf,
  type ResolvedRunSettings,
  resolveRunSettings,
  type RunSettingFlags,
} from './run-settings.ts';

export interface RunRequest {
  /** The PRD to start from; null continues the workspace's run (`loki resume`). */
  prdPath: string | null;
  /** The flags that are settings of the run (absent: from the run or the configuration). */
  flags: RunSettingFlags;
  /** Aborting it stops the run gracefully, as a stop request does: tasks go back to the queue. */
  stopSignal?: AbortSignal;
  /**
   * `--repo GIT_URL`: a distributed run. The current directory is a clone of it; this process
   * takes the merge coordinator's lock (waiting for another coordinator of the run to end) and
   * merges every task, its own and `loki worker`s', pushing main to the remote.
   */
  repoUrl?: string;
}

/** What the run is about to do, said once before it starts working. */
export interface RunStart {
  runId: string;
  isResume: boolean;
  root: string;
  settings: string;
  model: string;
  parallel: number;
  commandRunner: string;
  capUsd: number | null;
  /** What earlier sessions of the run spent (USD): a resumed run's spend starts there. */
  spentUsd: number;
}

export interface RunObserver {
  started?(start: RunStart): void;
  /** Every event of the run, in the store's order, as it is recorded. */
  event?(event: LokiEvent): void;
  /**
   * Called on the writer's call right after each commit of the run's store, with the events it
   * appended: a wake-up for what reads them back (the dashboard's event streams). It must be quick.
   */
  committed?(events: readonly LokiEvent[]): void;
  /** Where the run stands, after a burst of events (at most about once a second). */
  progress?(progress: RunProgress): void;
  /** Something the user should know that does not stop the run. */
  warning?(text: string): void;
  /** Waiting for something before the run can go on (another merge coordinator's lock). */
  waiting?(text: string): void;
}

export type RunResult =
  | { kind: 'already_completed'; runId: string }
  | { kind: 'ended'; outcome: RunOutcome; budget: BudgetSummary };

/**
 * `loki run` / `loki resume` / `loki demo`: checks what must hold before anything is written,
 * continues the workspace's run (or starts one), runs the pipeline under the run lock and reports
 * its events to `observer` as the store records them. Resolves with the outcome; a fault that
 * stopped the run (the store could not record an event) is thrown.
 */
export async function runWorkspace(
  context: AppContext,
  request: RunRequest,
  observer: RunObserver = {},
): Promise<RunResult> {
  const resolvedConfig = await checkRunCanStart(context, request.prdPath);
  const paths = workspacePaths(context.cwd);
  const storeUrl = resolvedConfig.values.store;
  if (request.repoUrl !== undefined) await checkCoordinatorWorkspace(context.cwd, request.repoUrl, storeUrl);
  const firstLatest = storeUrl !== '' || existsSync(paths.database) ? await readLatestRun(context) : null;
  assertSomethingToRun(context, request, firstLatest);
  // A distributed run has one merge coordinator: this process waits for the lock of the run first.
  const newRunId = randomId('run');
  await using coordinatorLock =
    request.repoUrl === undefined
      ? null
      : await takeCoordinatorLock({
          storeUrl,
          runId: firstLatest?.id ?? newRunId,
          onWaiting: () =>
            observer.waiting?.(
              `another merge coordinator holds the lock of run ${firstLatest?.id ?? newRunId}; waiting for it (the lock is freed when that process ends)…\n`,
            ),
          ...(request.stopSignal === undefined ? {} : { signal: request.stopSignal }),
        });
  const latest =
    coordinatorLock === null || firstLatest === null ? firstLatest : await readLatestRun(context);
  if (latest !== null && latest.status === 'completed') {
    await using workspace = await openAppWorkspace(context);
    await workspace.refreshProjections();
    return { kind: 'already_completed', runId: latest.id };
  }
  const resolved = resolveRunSettings({
    flags: request.flags,
    config: resolvedConfig,
    recorded: latest?.settings ?? null,
    cwd: context.cwd,
    store:
      storeUrl === ''
        ? { kind: 'sqlite', location: paths.database }
        : { kind: 'postgres', location: redactPostgresUrl(storeUrl) },
    selectProvider: (choice) => selectRunProvider(context, resolvedConfig.values, choice),
  });
  const settings = resolved.settings;
  assertSomeoneWorks(settings.parallel, request);
  // A script that cannot be read is refused before anything is written.
  const scripted =
    settings.provider === 'scripted' && settings.script !== null
      ? { session: loadScriptedSession(settings.script), origin: settings.script }
      : undefined;
  // Bootstrap: the workspace, git repository and PRD copy (idempotent; a different PRD is refused).
  if (request.prdPath !== null) {
    await initWorkspace({
      root: context.cwd,
      cwd: context.cwd,
      clock: context.clock,
      prdPath: request.prdPath,
    });
  }
  await using workspace = await openAppWorkspace(context);
  const runId = latest?.id ?? newRunId;
  using lock = acquireRunLock(paths.runLockFile, { runId });
  try {
    return await runSession({
      context,
      request,
      observer,
      workspace,
      resolved,
      scripted,
      config: resolvedConfig,
      runId,
      latest,
      coordinatorLock,
    });
  } finally {
    lock.release();
  }
}

/** Refused before anything is read or written: a bad PRD, a lost store, missing prerequisites. */
async function checkRunCanStart(context: AppContext, prdPath: string | null): Promise<ResolvedConfig> {
  if (prdPath !== null) readPrd(prdPath, context.cwd);
  // A run must never start a new, empty store over a history.
  assertStoreNotLost(workspacePaths(context.cwd));
  const resolvedConfig = resolveAppConfig(context);
  // An invalid alerting.yaml is refused now: a run must not go on to find out its alerts go nowhere.
  loadAlertingConfig(context.cwd, context.env);
  // Prerequisites (git, Node) are checked up front unless LOKI_SKIP_PREREQS says not to.
  if (!resolvedConfig.values.skipPrereqs) {
    const doctor = await runDoctor({ env: context.env });
    const missing = doctor.checks.filter((check) => check.isRequired && check.status !== 'ok');
    if (missing.length > 0) {
      throw usageError(
        'RUN_PREREQUISITES_MISSING',
        `missing prerequisites: ${missing.map((check) => `${check.name} (${check.detail}; fix: ${check.fix ?? 'see loki doctor'})`).join('; ')}. Set LOKI_SKIP_PREREQS=true to run anyway`,
      );
    }
  }
  return resolvedConfig;
}

/** `--parallel 0` leaves the tasks to `loki worker` processes: only a shared run (`--repo`) has them. */
function assertSomeoneWorks(parallel: number, request: RunRequest): void {
  if (parallel !== 0 || request.repoUrl !== undefined) return;
  throw usageError(
    'RUN_PARALLEL_ZERO_NEEDS_REPO',
    '--parallel 0 runs no agent in this process, so only loki worker processes on a shared run could do the tasks: add --store postgres://… --repo GIT_URL, or ask for at least --parallel 1',
  );
}

function assertSomethingToRun(context: AppContext, request: RunRequest, latest: Run | null): void {
  if (request.prdPath === null && latest !== null && latest.status !== 'completed') {
    // Checked before anything is written: without it the run would be recorded failed (a shared
    // one too, ending every worker's part) for a file this machine lacks.
    if (!existsSync(workspacePaths(context.cwd).prdCopy)) {
      throw usageError(
        'RUN_PRD_COPY_MISSING',
        `this workspace has no copy of the PRD of run ${latest.id} (.loki/specs/prd.md: a fresh clone, or removed); continue the run with loki run <prd> and the same PRD, with the same --store and --repo if it has them`,
      );
    }
    return;
  }
  if (request.prdPath !== null) return;
  throw usageError(
    'RUN_NOTHING_TO_RESUME',
    latest === null
      ? existsSync(workspacePaths(context.cwd).database)
        ? 'this workspace has no run to resume; start one with loki run <prd>'
        : `no Loki workspace in ${context.cwd}; start one with loki run <prd>`
      : `run ${latest.id} already completed; there is nothing to resume`,
  );
}

/** The workspace's latest run, read before the workspace is opened for the run itself. */
async function readLatestRun(context: AppContext): Promise<Run | null> {
  const storeUrl = resolveAppConfig(context).values.store;
  await using store = await openWorkspaceStore(
    workspacePaths(context.cwd),
    context.clock,
    undefined,
    storeUrl,
  );
  return await store.getLatestRun();
}

interface RunSession {
  context: AppContext;
  request: RunRequest;
  observer: RunObserver;
  workspace: Workspace;
  resolved: ResolvedRunSettings;
  scripted: { session: ScriptedSession; origin: string } | undefined;
  config: ResolvedConfig;
  runId: string;
  latest: Run | null;
  /** Held on a distributed run (`--repo`): this process is the run's merge coordinator. */
  coordinatorLock: CoordinatorLock | null;
}

/** One session of the run under its lock: the pipeline, its events followed, its backups. */
async function runSession(session: RunSession): Promise<RunResult> {
  const { context, workspace, resolved, runId, latest, observer } = session;
  const settings = resolved.settings;
  await using network = await startSandboxNetwork({
    config: session.config.values,
    provider: resolved.selection.provider,
    env: context.env,
    warn: (text) => observer.warning?.(text),
  });
  const { detection, source, governor } = await prepareAgents(session, network.access);
  // A stop requested in the store (loki stop from any terminal, the dashboard) and the caller's
  // stop signal (Ctrl-C, recorded as a request too) stop the run the same way, gracefully.
  const controller = new AbortController();
  const stopGracefully = () => controller.abort(new Error('stopped by the user'));
  using control = await RunControlWatch.start({ store: workspace.store, runId, onStop: stopGracefully });
  const stopSignal = session.request.stopSignal;
  const onStop = () => {
    recordSignalledStop(workspace.store, runId);
    stopGracefully();
  };
  if (stopSignal?.aborted === true) onStop();
  stopSignal?.addEventListener('abort', onStop, { once: true });
  const writer = new OrderedEventWriter({
    store: workspace.store,
    paths: workspace.paths,
    onFailure: (error) => controller.abort(error),
  });
  const alerting = alertingObserver(context, observer);
  // Until the session ends, after its last commit (the finally below flushes the writer).
  const stopRelaying = workspace.store.onEventsAppended((events) => observer.committed?.(events));
  using _relaying = { [Symbol.dispose]: stopRelaying };
  const follower = followRun({
    workspace,
    afterSequence: (await workspace.store.readSummary()).lastEventSequence,
    onEvent: (event) => alerting.event(event),
    onProgress: (progress) => observer.progress?.(progress),
    onError: followErrorHandler(session, writer),
  });
  using backups = scheduleBackups(session);
  await using _presence = await startRunPresence(session);
  // Recorded when the run starts, and again when a flag given now changed them.
  const isChanged = JSON.stringify(latest?.settings ?? null) !== JSON.stringify(settings);
  let outcome: RunOutcome;
  try {
    outcome = await runPipeline({
      workspace,
      source,
      runner: detection.runner,
      verifyEnvironment: buildSandboxEnvironment(context.env),
      deployEnvironment: context.env,
      config: session.config.values,
      breakerConfig: loadCircuitBreakerConfig(context.cwd),
      clock: context.clock,
      parallel: settings.parallel,
      governor,
      perpetual: settings.perpetual,
      maxIterations: settings.maxIterations,
      runId,
      resume: latest !== null,
      ...(isChanged ? { settings: { settings, given: resolved.given } } : {}),
      signal: controller.signal,
      emit: writer.emit,
      flush: () => writer.flush(),
      maxTaskAttempts: settings.maxTaskAttempts,
      deploy: settings.deploy,
      isPaused: () => control.isPaused,
      ...distributedMerging(session, controller),
    });
    // A run stopped by a store fault (an event it could not write) ends with that fault alone: a
    // last backup onto the same full or read-only disk would only add a second, noisier line.
    if (writer.failure === null) await backups.finish();
  } catch (error) {
    // A lost event stopped the run: that is what went wrong, whatever failed after it.
    throw writer.failure ?? error;
  } finally {
    stopSignal?.removeEventListener('abort', onStop);
    await writer.flush();
    await follower.stop();
    await alerting.close();
  }
  if (writer.failure !== null) throw writer.failure;
  return { kind: 'ended', outcome, budget: await governor.summary() };
}

/** On a distributed run: the merge coordinator beside the pipeline, stopping the run when it fails. */
function distributedMerging(
  session: RunSession,
  controller: AbortController,
): { distributed?: AttachDistributedMerging } {
  const { coordinatorLock: lock, request, workspace } = session;
  if (lock === null || request.repoUrl === undefined) return {};
  const onFatal = (error: unknown) => {
    session.observer.warning?.(
      `the merge coordinator stopped: ${error instanceof Error ? error.message : String(error)}`,
    );
    controller.abort(error);
  };
  lock.lost.addEventListener('abort', () => onFatal(lock.lost.reason), { once: true });
  return {
    distributed: coordinatorMerging({
      store: workspace.store,
      queue: workspace.queue,
      root: workspace.paths.root,
      repoUrl: request.repoUrl,
      lock,
      signal: controller.signal,
      onFatal,
      warn: (text) => session.observer.warning?.(text),
    }),
  };
}

/**
 * The session in the store's worker registry while it lasts (loki workers, status, the dashboard
 * show it); a heartbeat that cannot be written is a warning, never the run's failure.
 */
/** Online backups of the store while the run goes on, and one when it ends (not after a crash). */
function scheduleBackups(session: RunSession) {
  return session.workspace.scheduleStoreBackups({
    onError: (error) =>
      session.observer.warning?.(
        `the store backup failed, the run goes on: ${error instanceof Error ? error.message : String(error)}`,
      ),
  });
}

function startRunPresence(session: RunSession): Promise<WorkerPresence> {
  return WorkerPresence.start({
    store: session.workspace.store,
    id: runWorkerId(session.runId),
    role: 'run',
    runId: session.runId,
    parallel: session.resolved.settings.parallel,
    onTrouble: (text) => session.observer.warning?.(text),
    // A full or read-only disk stops the run with one line of its own.
    isReportedElsewhere: (error) => toWorkspaceFault(error, session.workspace.paths) !== null,
  });
}

/**
 * The observer's events, each also looked at by alerting first. Alerts leave off the run's path:
 * `notice` returns at once, and a failed delivery is only a warning.
 */
function alertingObserver(context: AppContext, observer: RunObserver) {
  const alerting = startRunAlerting(context, (text) => observer.warning?.(`alerting: ${text}`));
  return {
    event(event: LokiEvent): void {
      alerting.notice(event);
      observer.event?.(event);
    },
    close: () => alerting.close(),
  };
}

/** The command runner, the agent source and the budget of a session, told to the observer. */
async function prepareAgents(session: RunSession, network: SandboxNetworkAccess) {
  const { context, workspace, resolved, runId, latest, observer } = session;
  const settings = resolved.settings;
  const detection = await detectCommandRunner({ env: context.env, network });
  const source = createAppAgentSource(context, {
    provider: resolved.selection.provider,
    runner: detection.runner,
    sandboxNetwork: network,
    logsDirectory: workspace.paths.logsDirectory,
    modelOverrides: modelOverridesOf(settings),
    ...(session.scripted === undefined ? {} : { scripted: session.scripted }),
  });
  // The run's cap, stored with the run where the ledger is shared: every worker enforces this one.
  const { governor, spentUsd } = await openRunGovernor(workspace.store, {
    runId,
    capUsd: settings.budgetUsd,
  });
  observer.started?.({
    runId,
    isResume: latest !== null,
    root: context.cwd,
    settings: describeRunSettings(resolved),
    model: source.description,
    parallel: settings.parallel,
    commandRunner: detection.runner.kind,
    capUsd: settings.budgetUsd,
    spentUsd,
  });
  return { detection, source, governor };
}

/**
 * Following the run is for people: when it fails the run goes on (the store records everything)
 * and the user is told once. A full or read-only disk is not a display problem: the run stops.
 */
function followErrorHandler(session: RunSession, writer: OrderedEventWriter): (error: unknown) => void {
  let hasWarned = false;
  return (error) => {
    const fault = toWorkspaceFault(error, session.workspace.paths);
    if (fault !== null) {
      writer.failWith(fault);
      return;
    }
    if (hasWarned) return;
    hasWarned = true;
    const reason = error instanceof Error ? error.message : String(error);
    session.observer.warning?.(`cannot show the run's progress (${reason}); it goes on, see loki status`);
  };
}

/**
 * A stop by signal is recorded like any other request, so every process watching sees who stopped
 * the run. Best effort: the run stops on the signal alone even when the store cannot record it (a
 * full disk), and that fault is reported by the run's own next write.
 */
function recordSignalledStop(store: Store, runId: string): void {
  store.requestRunControl(runId, { action: 'stop', requestedBy: 'signal' }).catch(() => undefined);
}
