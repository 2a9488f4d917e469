/**
 * A deploy target: where a release runs (the local supervisor, a container engine, a cloud
 * platform through its official CLI). The deploy service (deploy-release.ts) builds the release,
 * picks the target, records the outcome in the store and reports it; a target only knows how to
 * put a release live on its platform, check it through `verify`, switch back and stop.
 *
 * Invariants every target keeps:
 * - `deploy` never leaves a release live that `verify` failed: it rolls back (or never switches)
 *   by itself and says why in `reason`. The release that was serving keeps serving throughout.
 * - `verify` is called with the URL where the NEW release answers, before it takes all traffic
 *   (blue-green: its own address before the switch; a platform with no such address: the live URL
 *   right after the deploy, followed by the target's rollback when it fails).
 * - A target that cannot do something says so in `capabilities`; no method throws "not supported".
 */
export interface DeployTarget {
  /** `local`, `container`, `vercel`, `kubernetes`, ... : the name in deploy.yaml and in the store. */
  readonly name: string;
  readonly capabilities: DeployTargetCapabilities;
  /** Whether this target can deploy here and now (its CLI found, credentials present), and why not. */
  detect(environment: TargetEnvironment): Promise<TargetAvailability>;
  /** Puts `release` live with the strategy asked for; the outcome says whether it stayed live. */
  deploy(release: Release, options: DeployOptions): Promise<DeployOutcome>;
  /** What serves now. */
  status(signal?: AbortSignal): Promise<TargetStatus>;
  /** Switches back to `release`, an earlier release of this target chosen by the deploy service. */
  rollback(release: Release, signal?: AbortSignal): Promise<RollbackOutcome>;
  /** Stops serving and removes what the target started (processes, containers); idempotent. */
  stop(signal?: AbortSignal): Promise<void>;
}

export type DeployStrategy = 'blue-green' | 'canary';
export const DEPLOY_STRATEGIES: readonly DeployStrategy[] = ['blue-green', 'canary'];

export interface DeployTargetCapabilities {
  /** The strategies `deploy` accepts; the service refuses others before calling it. */
  strategies: readonly DeployStrategy[];
  /** Whether the previous release is kept running after a switch, so a rollback is immediate. */
  keepsPreviousWarm: boolean;
  /**
   * Whether `stop` ends what serves (local processes, containers). False for a platform's service,
   * which Loki did not create and leaves to the platform's CLI: `stop` then does nothing.
   */
  stopsServing: boolean;
}

/** A release as a target sees it: the files of one commit of main, built, ready to start. */
export interface Release {
  /** Unique in the workspace and increasing: `v1`, `v2`, ... */
  version: string;
  /** The commit of main whose files the release holds. */
  commit: string;
  /** Absolute path of the release's files (`.loki/releases/<version>/`). */
  directory: string;
  /** From the architecture: starts the server in the foreground; it must listen on $PORT. */
  startCommand: string;
  /** For example `/health`. */
  healthPath: string;
  /**
   * GET paths safe to request at any time: the health path and the OpenAPI document's GETs without
   * parameters. A target sends them as its own traffic while it watches a canary.
   */
  probePaths: readonly string[];
}

export interface TargetEnvironment {
  /** The workspace (the user's project, with `.loki/`). */
  workspaceRoot: string;
  /** The process environment the target may read credentials and PATH from. */
  env: Readonly<Record<string, string | undefined>>;
}

export interface TargetAvailability {
  usable: boolean;
  /** Why it is usable (`docker 27.1 found`) or not (`VERCEL_TOKEN is not set`). */
  reason: string;
}

/** One post-deploy check, with the verdict words of the gates (DESIGN.md §5). */
export interface DeployCheck {
  /** `health`, `smoke GET /items`, `performance`, `accessibility`, ... */
  name: string;
  verdict: 'pass' | 'fail' | 'not-proven';
  detail: string;
}

/** Post-deploy verification of the release answering at `url` (health, smoke, gates). */
export type VerifyRelease = (url: string, signal: AbortSignal) => Promise<DeployCheck[]>;

export interface DeployOptions {
  strategy: DeployStrategy;
  verify: VerifyRelease;
  signal: AbortSignal;
  /** Progress lines for the user (`v3 passed its checks; switching`); never needed for correctness. */
  onProgress?: (message: string) => void;
}

export interface DeployOutcome {
  /** live: the release serves all traffic. rolled_back: it failed and the previous one serves. */
  status: 'live' | 'rolled_back';
  /** The stable URL users reach the product at (null only when nothing serves at all). */
  url: string | null;
  checks: DeployCheck[];
  /** Why the release was rolled back; null when live. */
  reason: string | null;
  /** Canary only: what was measured at each step. */
  canarySteps?: CanaryStepReport[];
}

export interface CanaryStepReport {
  /** Share of requests sent to the new release, 0–100. */
  percent: number;
  candidate: TrafficSample;
  baseline: TrafficSample;
  passed: boolean;
}

export interface TrafficSample {
  requests: number;
  errors: number;
  /** Median latency in milliseconds; null without requests. */
  medianLatencyMilliseconds: number | null;
}

export interface TargetStatus {
  /** Whether anything of this target serves now. */
  isServing: boolean;
  url: string | null;
  /** The version taking traffic (all of it, or the baseline's share during a canary). */
  activeVersion: string | null;
  /** Other versions still running (kept warm for rollback, or a canary in progress). */
  warmVersions: string[];
  /** One line for `loki deploy status` (pid, uptime, restarts...). */
  detail: string;
}

export interface RollbackOutcome {
  url: string | null;
  version: string;
  /** Whether the release was still running (warm), so the switch did not start anything. */
  wasWarm: boolean;
}
