import { join } from 'node:path';
import {
  deployRelease,
  type DeploymentResult,
  type DeployStrategy,
  type DeployTarget,
  LocalTarget,
  listReleases,
  readDeploySpec,
  type ReleaseRecord,
  rollbackRelease,
  type RollbackResult,
  type TargetStatus,
} from '../deploy/index.ts';
import { usageError } from '../errors/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import { buildSandboxEnvironment, detectCommandRunner, findExecutable } from '../sandbox/index.ts';
import type { Workspace } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace } from './open-app-workspace.ts';

export interface DeployRequest {
  strategy: DeployStrategy;
  /** The commit or ref to release; default: the workspace's checked-out main (HEAD). */
  commit?: string;
  /** How long a new release has to answer its health path. */
  healthTimeoutSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The local target of a workspace, its apps sandboxed when bubblewrap works here. */
export async function localTargetOf(
  root: string,
  runner: CommandRunner,
  env: NodeJS.ProcessEnv,
): Promise<DeployTarget> {
  const bubblewrapPath = runner.kind === 'bubblewrap' ? (findExecutable('bwrap', env.PATH) ?? null) : null;
  return new LocalTarget({ workspaceRoot: root, bubblewrapPath, env });
}

/** `loki deploy`: a release of main built, verified and put live on the local target. */
export async function deployProduct(context: AppContext, request: DeployRequest): Promise<DeploymentResult> {
  await using workspace = await openAppWorkspace(context);
  return await deployWorkspace(workspace, context.env, { ...request, runId: null });
}

/** The deployment of a workspace already open (the run's Deployment phase comes through here too). */
export async function deployWorkspace(
  workspace: Workspace,
  env: NodeJS.ProcessEnv,
  request: DeployRequest & { runId: string | null },
): Promise<DeploymentResult> {
  const signal = request.signal ?? new AbortController().signal;
  const { runner } = await detectCommandRunner({ env, signal });
  const root = workspace.paths.root;
  return deployRelease({
    store: workspace.store,
    target: await localTargetOf(root, runner, env),
    repositoryRoot: root,
    releasesDirectory: join(workspace.paths.lokiDirectory, 'releases'),
    commit: request.commit ?? 'HEAD',
    spec: readDeploySpec(workspace.paths.specsDirectory),
    strategy: request.strategy,
    runner,
    buildEnv: buildSandboxEnvironment(env, { overrides: { CI: 'true' } }),
    runId: request.runId,
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
  const target = new LocalTarget({
    workspaceRoot: workspace.paths.root,
    bubblewrapPath: null,
    env: context.env,
  });
  return { status: await target.status(), releases: await listReleases(workspace.store) };
}

/** `loki deploy stop`: the supervisor, its proxy and every release it runs end; recorded. */
export async function stopDeployment(
  context: AppContext,
): Promise<{ stoppedVersion: string | null; wasRunning: boolean }> {
  await using workspace = await openAppWorkspace(context);
  const target = new LocalTarget({
    workspaceRoot: workspace.paths.root,
    bubblewrapPath: null,
    env: context.env,
  });
  const status = await target.status();
  await target.stop();
  if (status.detail !== 'no supervisor running') {
    await workspace.store.appendEvent({
      type: 'deployment.stopped',
      runId: null,
      taskId: null,
      data: { target: target.name, version: status.activeVersion },
    });
  }
  return { stoppedVersion: status.activeVersion, wasRunning: status.detail !== 'no supervisor running' };
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
  const { runner } = await detectCommandRunner({ env: context.env });
  const target = await localTargetOf(workspace.paths.root, runner, context.env);
  return await rollbackRelease({ store: workspace.store, target, toVersion });
}
