import type { Store } from '../store/index.ts';
import { type CanaryThresholds, DEFAULT_CANARY_THRESHOLDS } from './local/canary.ts';
import { type BubblewrapPath, LocalTarget } from './local/local-target.ts';
import { listReleases } from './release-history.ts';
import type { DeployStrategy, DeployTarget } from './target.ts';
import { CloudDeployTarget } from './targets/cloud-deploy-target.ts';
import { createCliRunner } from './targets/cli-runner.ts';
import { createCloudTarget } from './targets/create-cloud-target.ts';
import { type DeployConfig, loadDeployConfig } from './targets/deploy-config.ts';

export interface ConfiguredTargetOptions {
  workspaceRoot: string;
  store: Store;
  /** The environment the local target's supervisor and apps inherit. */
  env: Readonly<Record<string, string | undefined>>;
  /** The environment a container or cloud CLI sees (PATH, credentials); default `env`. */
  cliEnv?: Readonly<Record<string, string | undefined>>;
  /** bwrap for the local target's apps when the sandbox works here, else null (see BubblewrapPath). */
  bubblewrapPath: BubblewrapPath;
}

export interface ConfiguredTarget {
  target: DeployTarget;
  /** deploy.yaml's `strategy:` (blue-green when absent); a `--strategy` flag overrides it. */
  strategy: DeployStrategy;
  /** deploy.yaml's `healthPath:`, which overrides the architecture's; null when absent. */
  healthPath: string | null;
}

/**
 * The target `.loki/config/deploy.yaml` names (`target:`, validated; local when the file or the key
 * is absent), ready for the deploy service: `loki deploy`, `loki rollback`, `loki deploy status|stop`
 * and the run's Deployment phase all deploy through this one choice.
 */
export function createConfiguredTarget(options: ConfiguredTargetOptions): ConfiguredTarget {
  const config = loadDeployConfig(options.workspaceRoot);
  return {
    target: targetOf(config, options),
    strategy: config.strategy,
    healthPath: config.healthPath ?? null,
  };
}

function targetOf(config: DeployConfig, options: ConfiguredTargetOptions): DeployTarget {
  if (config.target === 'local') {
    return new LocalTarget({
      workspaceRoot: options.workspaceRoot,
      bubblewrapPath: options.bubblewrapPath,
      env: options.env,
      canaryThresholds: canaryThresholdsOf(config),
    });
  }
  const name = config.target;
  const cloud = createCloudTarget(
    name,
    config,
    createCliRunner({ env: options.cliEnv ?? options.env }),
    options.workspaceRoot,
  );
  return new CloudDeployTarget(cloud, async () => {
    const live = (await listReleases(options.store)).filter(
      (release) => release.target === name && release.status === 'live',
    );
    const last = live.at(-1);
    return last === undefined ? null : { version: last.version, url: last.url };
  });
}

/** deploy.yaml's `canary:` over the defaults; the last step is always the full switch (100). */
function canaryThresholdsOf(config: DeployConfig): CanaryThresholds {
  const canary = config.canary ?? {};
  const defaults = DEFAULT_CANARY_THRESHOLDS;
  return {
    ...defaults,
    steps: canary.steps === undefined ? defaults.steps : [...canary.steps, 100],
    maxErrorRateIncrease:
      canary.maxErrorRateIncreasePercent === undefined
        ? defaults.maxErrorRateIncrease
        : canary.maxErrorRateIncreasePercent / 100,
    maxLatencyRatio: canary.maxLatencyRatio ?? defaults.maxLatencyRatio,
    latencySlackMilliseconds: canary.latencySlackMilliseconds ?? defaults.latencySlackMilliseconds,
    minimumRequests: canary.minimumRequests ?? defaults.minimumRequests,
  };
}
