export { AppRunnerTarget } from './app-runner.ts';
export { type CliInvocation, type CliOutcome, type CliRunner, createCliRunner } from './cli-runner.ts';
export {
  CLOUD_TARGET_NAMES,
  type CloudTarget,
  type CloudTargetName,
  type DeployedRelease,
  type Release,
  type RollbackResult,
  type TargetDetection,
  type TargetStatus,
} from './cloud-target.ts';
export { CloudDeployTarget, type LastLiveRelease } from './cloud-deploy-target.ts';
export { CloudRunTarget } from './cloud-run.ts';
export { ContainerTarget } from './container.ts';
export { ContainerAppsTarget } from './container-apps.ts';
export { type ContainerEngineDetection, detectContainerEngine } from './container-engine.ts';
export { createCloudTarget, detectCloudTargets, type TargetAvailability } from './create-cloud-target.ts';
export {
  deployAndVerify,
  type DeployAndVerifyOptions,
  type DeploymentVerdict,
  type PostDeployCheck,
} from './deploy-and-verify.ts';
export { type DeployConfig, deployConfigPath, loadDeployConfig, parseDeployConfig } from './deploy-config.ts';
export { DeployErrorCode } from './deploy-errors.ts';
export { FlyTarget } from './fly.ts';
export { KubernetesTarget } from './kubernetes.ts';
export { NetlifyTarget } from './netlify.ts';
export { RailwayTarget } from './railway.ts';
export { VercelTarget } from './vercel.ts';
