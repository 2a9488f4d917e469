/**
 * The small contract every non-local deploy target meets: a container engine or a platform's
 * official CLI. Kept deliberately narrow so that it can be folded into the deploy target interface
 * of the local target (releases, supervisor) without changing the adapters.
 */

/** The names users write as `target:` in `.loki/config/deploy.yaml`. */
export const CLOUD_TARGET_NAMES = [
  'container',
  'vercel',
  'netlify',
  'fly',
  'railway',
  'cloud-run',
  'app-runner',
  'container-apps',
  'kubernetes',
] as const;
export type CloudTargetName = (typeof CLOUD_TARGET_NAMES)[number];

/** One release: files of a commit of main copied out of git, already built. */
export interface Release {
  version: string;
  commit: string;
  /** Absolute path of the release's files; the CLI runs there. */
  directory: string;
}

export interface DeployedRelease {
  /** Where the release answers, as the platform reports it. */
  url: string;
}

/**
 * `usable` only when the tool is on PATH AND its credential is present. `reason` says which of the
 * two is missing and how to provide it; it never contains a credential's value.
 */
export interface TargetDetection {
  usable: boolean;
  reason: string;
}

export interface RollbackResult {
  /** False when nothing had to change (the failed release never went live) or nothing was there before. */
  rolledBack: boolean;
  detail: string;
}

export interface TargetStatus {
  /** The URL of the release this target last put live, if any. */
  url?: string;
  /** The version of that release. */
  version?: string;
  detail: string;
}

export interface CloudTarget {
  readonly name: CloudTargetName;
  detect(): Promise<TargetDetection>;
  /**
   * Puts the release live and returns its URL. Throws a LokiError (DEPLOY_COMMAND_FAILED,
   * DEPLOY_ROLLOUT_FAILED, ...) when the platform refused it; the target remembers whether the
   * live service changed so that `rollback` knows whether there is anything to undo.
   */
  deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease>;
  /** Restores what served before the last `deploy`, by the platform's own rollback mechanism. */
  rollback(signal?: AbortSignal): Promise<RollbackResult>;
  status(signal?: AbortSignal): Promise<TargetStatus>;
}
