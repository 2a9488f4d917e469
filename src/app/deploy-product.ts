import { join } from 'node:path';
import type {
  BubblewrapPath,
  DeploymentResult,
  DeployStrategy,
  DeployTarget,
  ReleaseRecord,
  RollbackResult,
  TargetStatus,
} from '../deploy/index.ts';
// By their own files: `loki rollback`, `loki deploy status` and `stop` come here, and must not
// load the deploy barrel's supervisor (its HTTP server), the gates or the sandbox's runners.
import { type ConfiguredTarget, createConfiguredTarget } from '../deploy/configured-target.ts';
import { listReleases } from '../deploy/release-history.ts';
import { rollbackRelease } from '../deploy/rollback-release.ts';
import { usageError } from '../errors/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import type { Workspace } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace } from './open-app-workspace.ts';

// Loaded by a function of its own: TypeScript leaves the `.ts` of an import() written inside a
// function that declares `await using` in the built code, where no .ts file exists.
const loadAlerting = () => import('../alerting/index.ts');
// Bubblewrap's runner brings the sandbox's network proxy: only for a deploy or a cold rollback.
const loadCommandRunnerDetection = () => import('../sandbox/detect-command-runner.ts');

export interface DeployRequest {
  /** Default: deploy.yaml's `strategy:`, else blue-green. */
  strategy?: DeployStrategy;
  /** The commit or ref to release; default: the workspace's checked-out main (HEAD). */
  commit?: string;
  /** How long a new release has to answer its health path. */
  healthTimeoutSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Something the user should know that does not change the deployment (an alert not delivered). */
  onWarning?: (message: string) => void;
}

/**
 * The target deploy.yaml names for a workspace; the local target's apps are sandboxed when
 * bubblewrap works here (null: only status and stop, which start no app).
 */
function configuredOf(
  workspace: Workspace,
  bubblewrapPath: BubblewrapPath,
  env: NodeJS.ProcessEnv,
): ConfiguredTarget {
  return createConfiguredTarget({
    workspaceRoot: workspace.paths.root,
    store: workspace.store,
    env,
    bubblewrapPath,
  });
}

function targetOf(
  workspace: Workspace,
  bubblewrapPath: BubblewrapPath,
  env: NodeJS.ProcessEnv,
): DeployTarget {
  return configuredOf(workspace, bubblewrapPath, env).target;
}

/** bwrap when the runner found for this machine is bubblewrap, else null (plain processes). */
function bubblewrapPathOf(runner: CommandRunner, env: NodeJS.ProcessEnv): string | null {
  return runner.kind === 'bubblewrap' ? (findExecutable('bwrap', env.PATH) ?? null) : null;
}

/**
 * `loki deploy`: a release of main built, verified and put live on the configured target. Its
 * `release.deployed` event reaches the alert channels of alerting.yaml, as a run's does: a release
 * rolled back or failed alerts, a live one resolves the incident.
 */
export async function deployProduct(context: AppContext, request: DeployRequest): Promise<DeploymentResult> {
  const { startRunAlerting } = await loadAlerting();
  await using workspace = await openAppWorkspace(context);
  // An invalid alerting.yaml is refused here, before anything is built.
  const alerting = startRunAlerting(context, (text) => request.onWarning?.(`alerting: ${text}`));
  const forget = workspace.store.onEventsAppended((events) => {
    for (const event of events) alerting.notice(event);
  });
  try {
    return await deployWorkspace(workspace, context.env, { ...request, runId: null });
  } finally {
    forget();
    await alerting.close();
  }
}

/** The deployment of a workspace already open (the run's Deployment phase comes through here too). */
export async function deployWorkspace(
  workspace: Workspace,
  env: NodeJS.ProcessEnv,
  request: DeployRequest & { runId: string | null },
): Promise<DeploymentResult> {
  const { deployRelease } = await import('../deploy/deploy-release.ts');
  const { readDeploySpec } = await import('../deploy/deploy-spec.ts');
  const { loadGatesConfig } = await import('../config/index.ts');
  const { ALL_GATES, createLiveAppGates } = await import('../gates/index.ts');
  const { buildSandboxEnvironment } = await import('../sandbox/index.ts');
  const { detectCommandRunner } = await loadCommandRunnerDetection();
  const signal = request.signal ?? new AbortController().signal;
  const { runner } = await detectCommandRunner({ env, signal });
  const root = workspace.paths.root;
  const configured = configuredOf(workspace, bubblewrapPathOf(runner, env), env);
  const specOfArchitecture = readDeploySpec(workspace.paths.specsDirectory);
  const spec =
    configured.healthPath === null
      ? specOfArchitecture
      : { ...specOfArchitecture, healthPath: configured.healthPath };
  // A broken gates.yaml is refused here, before anything is built (exit 2).
  const gates = loadGatesConfig(
    root,
    ALL_GATES.map((gate) => gate.name),
  );
  return deployRelease({
    store: workspace.store,
    target: configured.target,
    repositoryRoot: root,
    releasesDirectory: join(workspace.paths.lokiDirectory, 'releases'),
    commit: request.commit ?? 'HEAD',
    spec,
    strategy: request.strategy ?? configured.strategy,
    runner,
    buildEnv: buildSandboxEnvironment(env, { overrides: { CI: 'true' } }),
    targetEnv: env,
    runId: request.runId,
    extraChecks: createLiveAppGates({
      config: gates,
      healthPath: spec.healthPath,
      smokePaths: spec.smokePaths,
    }),
    signal,
    ...(request.healthTimeoutSeconds === undefined
      ? {}
      : { healthDeadlineMilliseconds: request.healthTimeoutSeconds * 1000 }),
    ...(request.onProgress === undefined ? {} : { onProgress: request.onProgress }),
  });
}

export interface DeploymentOverview {
  status: TargetStatus;
  releases: ReleaseRecord[];
}

/** `loki deploy status` and `loki deployments`: what serves now and the release history. */
export async function readDeployments(context: AppContext): Promise<DeploymentOverview> {
  await using workspace = await openAppWorkspace(context);
  const target = targetOf(workspace, null, context.env);
  return { status: await target.status(), releases: await listReleases(workspace.store) };
}

/**
 * `loki deploy stop`: what the target runs here ends (the local supervisor, its proxy and releases;
 * the container target's containers); recorded. A platform's service is not Loki's to delete.
 */
export async function stopDeployment(
  context: AppContext,
): Promise<{ stoppedVersion: string | null; wasRunning: boolean }> {
  await using workspace = await openAppWorkspace(context);
  const target = targetOf(workspace, null, context.env);
  if (!target.capabilities.stopsServing) {
    throw usageError(
      'DEPLOY_STOP_UNSUPPORTED',
      `loki deploy stop ends what runs on this machine; the ${target.name} target's service runs on its platform: stop or delete it with the platform's own CLI`,
    );
  }
  const status = await target.status();
  // The local supervisor may run with no release routed yet: stopping it is still a stop.
  const wasRunning =
    status.isServing || (target.name === 'local' && status.detail !== 'no supervisor running');
  await target.stop();
  if (wasRunning) {
    await workspace.store.appendEvent({
      type: 'deployment.stopped',
      runId: null,
      taskId: null,
      data: { target: target.name, version: status.activeVersion },
    });
  }
  return { stoppedVersion: status.activeVersion, wasRunning };
}

/** `loki rollback [--to VERSION]`. */
export async function rollbackDeployment(
  context: AppContext,
  toVersion: string | null,
): Promise<RollbackResult> {
  if (toVersion !== null && !/^v\d+$/.test(toVersion)) {
    throw usageError(
      'DEPLOY_VERSION_INVALID',
      `${toVersion} is not a release version; versions look like v3 (see loki deployments)`,
    );
  }
  await using workspace = await openAppWorkspace(context);
  // Whether bubblewrap works is tried only if a release must be started: a switch back to a
  // release still running (the usual rollback) is a route change and must stay that quick.
  const sandboxPath = async () => {
    const { detectCommandRunner } = await loadCommandRunnerDetection();
    return bubblewrapPathOf((await detectCommandRunner({ env: context.env })).runner, context.env);
  };
  const target = targetOf(workspace, sandboxPath, context.env);
  return await rollbackRelease({ store: workspace.store, target, toVersion });
}
