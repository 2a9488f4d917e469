import { basename } from 'node:path';
import { usageError } from '../../errors/index.ts';
import { AppRunnerTarget, detectAppRunner } from './app-runner.ts';
import type { CliRunner } from './cli-runner.ts';
import {
  CLOUD_TARGET_NAMES,
  type CloudTarget,
  type CloudTargetName,
  type TargetDetection,
} from './cloud-target.ts';
import { CloudRunTarget, detectCloudRun } from './cloud-run.ts';
import { ContainerTarget } from './container.ts';
import { ContainerAppsTarget, detectContainerApps } from './container-apps.ts';
import { detectContainerEngine } from './container-engine.ts';
import type { DeployConfig } from './deploy-config.ts';
import { detectFly, FlyTarget } from './fly.ts';
import { detectKubernetes, KubernetesTarget } from './kubernetes.ts';
import { detectNetlify, NetlifyTarget } from './netlify.ts';
import { detectRailway, RailwayTarget } from './railway.ts';
import { detectVercel, VercelTarget } from './vercel.ts';

/** The configured target's adapter; `workspaceRoot` names the container target's images. */
export function createCloudTarget(
  name: CloudTargetName,
  config: DeployConfig,
  runner: CliRunner,
  workspaceRoot: string,
): CloudTarget {
  const section = <T>(value: T | undefined, key: string): T => {
    // deploy-config's refinement already requires the section; this guards direct callers.
    if (value === undefined) {
      throw usageError(
        'LOKI_CONFIG_INVALID',
        `target ${name} needs a "${key}:" section in .loki/config/deploy.yaml.`,
      );
    }
    return value;
  };
  switch (name) {
    case 'container':
      return new ContainerTarget(runner, {
        project: basename(workspaceRoot),
        engine: config.container?.engine ?? 'auto',
        port: config.container?.port ?? 3000,
      });
    case 'vercel':
      return new VercelTarget(runner, section(config.vercel, 'vercel'));
    case 'netlify':
      return new NetlifyTarget(runner, section(config.netlify, 'netlify'));
    case 'fly':
      return new FlyTarget(runner, section(config.fly, 'fly'));
    case 'railway':
      return new RailwayTarget(runner, section(config.railway, 'railway'));
    case 'cloud-run':
      return new CloudRunTarget(runner, section(config.cloudRun, 'cloudRun'));
    case 'app-runner':
      return new AppRunnerTarget(runner, section(config.appRunner, 'appRunner'));
    case 'container-apps':
      return new ContainerAppsTarget(runner, section(config.containerApps, 'containerApps'));
    case 'kubernetes':
      return new KubernetesTarget(runner, section(config.kubernetes, 'kubernetes'));
  }
}

const DETECTORS: Record<CloudTargetName, (runner: CliRunner) => Promise<TargetDetection>> = {
  container: async (runner) => {
    const detection = await detectContainerEngine(runner);
    return { usable: detection.usable, reason: detection.reason };
  },
  vercel: detectVercel,
  netlify: detectNetlify,
  fly: detectFly,
  railway: detectRailway,
  'cloud-run': detectCloudRun,
  'app-runner': detectAppRunner,
  'container-apps': detectContainerApps,
  kubernetes: detectKubernetes,
};

export interface TargetAvailability extends TargetDetection {
  name: CloudTargetName;
}

/** Which container and cloud targets could deploy from this machine now, each with its reason. */
export async function detectCloudTargets(runner: CliRunner): Promise<TargetAvailability[]> {
  return Promise.all(CLOUD_TARGET_NAMES.map(async (name) => ({ name, ...(await DETECTORS[name](runner)) })));
}
