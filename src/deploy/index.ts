export { buildRelease, type BuildReleaseOptions, type BuiltRelease } from './build-release.ts';
export {
  type ConfiguredTarget,
  type ConfiguredTargetOptions,
  createConfiguredTarget,
} from './configured-target.ts';
export { deployRelease, type DeployReleaseRequest, type DeploymentResult } from './deploy-release.ts';
export { type DeploySpec, readDeploySpec } from './deploy-spec.ts';
export { type CanaryThresholds, DEFAULT_CANARY_THRESHOLDS } from './local/canary.ts';
export { type BubblewrapPath, LocalTarget, type LocalTargetOptions } from './local/local-target.ts';
export { runSupervisor, type RunSupervisorOptions } from './local/run-supervisor.ts';
export { isAlive } from './local/supervisor-client.ts';
export { foldReleases, listReleases, nextVersion, type ReleaseRecord } from './release-history.ts';
export { rollbackRelease, type RollbackRequest, type RollbackResult } from './rollback-release.ts';
export { smokePathsFromOpenApi } from './smoke-paths.ts';
export {
  type CanaryStepReport,
  type DeployCheck,
  DEPLOY_STRATEGIES,
  type DeployOptions,
  type DeployOutcome,
  type DeployStrategy,
  type DeployTarget,
  type DeployTargetCapabilities,
  type Release,
  type RollbackOutcome,
  type TargetAvailability,
  type TargetEnvironment,
  type TargetStatus,
  type TrafficSample,
  type VerifyRelease,
} from './target.ts';
export { createReleaseVerifier, type ReleaseVerification } from './verify-release.ts';
