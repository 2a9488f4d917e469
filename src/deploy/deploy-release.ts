import { isLokiError, usageError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import { buildRelease } from './build-release.ts';
import type { DeploySpec } from './deploy-spec.ts';
import { listReleases, nextVersion } from './release-history.ts';
import type {
  DeployCheck,
  DeployStrategy,
  DeployTarget,
  Release,
  VerifyRelease,
  CanaryStepReport,
} from './target.ts';
import { createReleaseVerifier } from './verify-release.ts';

export interface DeployReleaseRequest {
  store: Store;
  target: DeployTarget;
  repositoryRoot: string;
  /** `.loki/releases/` */
  releasesDirectory: string;
  /** The commit (or ref) of main to release. */
  commit: string;
  spec: DeploySpec;
  strategy: DeployStrategy;
  /** Runs the build command (sandboxed). */
  runner: CommandRunner;
  buildEnv: Readonly<Record<string, string>>;
  /** What the target's detection reads (PATH, credentials); not the sandboxed build environment. */
  targetEnv: Readonly<Record<string, string | undefined>>;
  /** The run this deployment belongs to, or null for `loki deploy`. */
  runId: string | null;
  /** Post-deploy checks beyond health and smoke (the performance and accessibility gates). */
  extraChecks?: readonly VerifyRelease[];
  /** How long a new release has to answer its health path (default 30 s). */
  healthDeadlineMilliseconds?: number;
  signal: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface DeploymentResult {
  version: string;
  commit: string;
  target: string;
  strategy: DeployStrategy;
  /**
   * live: it serves. rolled_back: its checks or canary failed, the previous one serves. failed: not
   * built or not started. not_proven: the target cannot deploy from this machine (`reason` says why).
   */
  status: 'live' | 'rolled_back' | 'failed' | 'not_proven';
  url: string | null;
  checks: DeployCheck[];
  reason: string | null;
  canarySteps: CanaryStepReport[];
}

/**
 * The deploy service: a new release of `commit` is built, recorded, handed to the target with the
 * post-deploy verification, and its outcome recorded (`release.built`, `release.deployed`). A
 * release that fails its checks never takes the traffic of the one serving (the target's
 * invariant); this function reports why. A target that cannot deploy from here (its CLI,
 * credentials or engine missing) is never called: the built release is recorded `not_proven`
 * with the target's reason, so no outcome claims a deployment that did not happen.
 */
export async function deployRelease(request: DeployReleaseRequest): Promise<DeploymentResult> {
  const { target, store, spec } = request;
  if (!target.capabilities.strategies.includes(request.strategy)) {
    throw usageError(
      'DEPLOY_STRATEGY_UNSUPPORTED',
      `The ${target.name} target cannot deploy with ${request.strategy}; use --strategy ${target.capabilities.strategies.join(' or ')}`,
    );
  }
  const availability = await target.detect({ workspaceRoot: request.repositoryRoot, env: request.targetEnv });
  const version = nextVersion(await listReleases(store));
  const base = { version, target: target.name, strategy: request.strategy };
  const built = await buildRelease({
    repositoryRoot: request.repositoryRoot,
    commit: request.commit,
    version,
    releasesDirectory: request.releasesDirectory,
    buildCommand: spec.buildCommand,
    runner: request.runner,
    env: request.buildEnv,
    signal: request.signal,
  });
  await store.appendEvent({
    type: 'release.built',
    runId: request.runId,
    taskId: null,
    data: {
      version,
      commit: built.commit,
      target: target.name,
      directory: built.directory,
      startCommand: spec.startCommand,
      healthPath: spec.healthPath,
      buildCommand: spec.buildCommand,
    },
  });
  const release: Release = {
    version,
    commit: built.commit,
    directory: built.directory,
    startCommand: spec.startCommand,
    healthPath: spec.healthPath,
    probePaths: [spec.healthPath, ...spec.smokePaths],
  };
  let result: DeploymentResult;
  if (!availability.usable) {
    result = {
      ...base,
      commit: built.commit,
      status: 'not_proven',
      url: null,
      checks: [],
      reason: `the ${target.name} target cannot deploy from this machine: ${availability.reason}`,
      canarySteps: [],
    };
    await recordOutcome(request, result);
    return result;
  }
  try {
    const outcome = await target.deploy(release, {
      strategy: request.strategy,
      verify: createReleaseVerifier({
        healthPath: spec.healthPath,
        smokePaths: spec.smokePaths,
        ...(request.healthDeadlineMilliseconds === undefined
          ? {}
          : { healthDeadlineMilliseconds: request.healthDeadlineMilliseconds }),
        ...(request.extraChecks === undefined ? {} : { extraChecks: request.extraChecks }),
      }),
      signal: request.signal,
      ...(request.onProgress === undefined ? {} : { onProgress: request.onProgress }),
    });
    result = { ...base, commit: built.commit, ...outcome, canarySteps: outcome.canarySteps ?? [] };
  } catch (error) {
    if (!isLokiError(error) || request.signal.aborted) throw error;
    result = {
      ...base,
      commit: built.commit,
      status: 'failed',
      url: null,
      checks: [],
      reason: error.message,
      canarySteps: [],
    };
  }
  await recordOutcome(request, result);
  return result;
}

async function recordOutcome(request: DeployReleaseRequest, result: DeploymentResult): Promise<void> {
  await request.store.appendEvent({
    type: 'release.deployed',
    runId: request.runId,
    taskId: null,
    data: {
      version: result.version,
      target: result.target,
      strategy: result.strategy,
      status: result.status,
      url: result.url,
      reason: result.reason,
      checks: result.checks,
      canarySteps: result.canarySteps,
    },
  });
}
