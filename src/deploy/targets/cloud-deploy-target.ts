import { existsSync } from 'node:fs';
import { isLokiError, LokiError } from '../../errors/index.ts';
import type {
  DeployCheck,
  DeployOptions,
  DeployOutcome,
  DeployTarget,
  Release,
  RollbackOutcome,
  TargetAvailability,
  TargetStatus,
} from '../target.ts';
import type { CloudTarget, RollbackResult } from './cloud-target.ts';
import { ContainerTarget } from './container.ts';
import { DeployErrorCode } from './deploy-errors.ts';

/** The release this workspace's history last recorded live on the target (the store is the record). */
export type LastLiveRelease = () => Promise<{ version: string; url: string | null } | null>;

/**
 * A container or cloud adapter (CloudTarget) as a deploy target: the deploy service builds and
 * records the release, this class puts it live through the adapter, runs the post-deploy checks on
 * the URL the platform gives, and undoes it by the platform's own means when the rollout or a check
 * fails. These platforms have no address where a new release answers before it takes the traffic:
 * the checks run on the live URL right after the deploy, followed by the rollback on failure (the
 * DeployTarget invariant for such targets). Only blue-green: the platform does the switch; a canary
 * needs a traffic split Loki does not drive on these platforms.
 */
export class CloudDeployTarget implements DeployTarget {
  readonly name: string;
  readonly capabilities;
  readonly #cloud: CloudTarget;
  readonly #lastLive: LastLiveRelease;

  constructor(cloud: CloudTarget, lastLive: LastLiveRelease) {
    this.#cloud = cloud;
    this.#lastLive = lastLive;
    this.name = cloud.name;
    // Only the container target runs on this machine: it keeps the previous container running
    // after a switch, and stop removes its containers.
    const isContainer = cloud.name === 'container';
    this.capabilities = {
      strategies: ['blue-green'] as const,
      keepsPreviousWarm: isContainer,
      stopsServing: isContainer,
    };
  }

  async detect(): Promise<TargetAvailability> {
    return await this.#cloud.detect();
  }

  async deploy(release: Release, options: DeployOptions): Promise<DeployOutcome> {
    const { signal } = options;
    const progress = options.onProgress ?? (() => undefined);
    let url: string;
    try {
      url = withoutTrailingSlash((await this.#cloud.deploy(release, signal)).url);
    } catch (error) {
      if (!isLokiError(error) || signal.aborted) throw error;
      // A refused deploy changed nothing (no rollback needed): the service records it as failed.
      const undo = await this.#undo(error.message, signal);
      if (!undo.rolledBack) throw error;
      return {
        status: 'rolled_back',
        url: await this.#servingUrl(signal),
        checks: [{ name: 'rollout', verdict: 'fail', detail: error.message }],
        reason: `${error.message} Rolled back: ${undo.detail}`,
      };
    }
    progress(`${release.version} is deployed on ${this.name} at ${url}; checking it`);
    const checks = await options.verify(url, signal);
    const failed = checks.find((check: DeployCheck) => check.verdict === 'fail');
    if (failed === undefined) return { status: 'live', url, checks, reason: null };
    progress(`${release.version} failed ${failed.name}; rolling back on ${this.name}`);
    const reason = `${failed.name} failed: ${failed.detail}`;
    const undo = await this.#undo(reason, signal);
    return {
      status: 'rolled_back',
      url: await this.#servingUrl(signal),
      checks,
      reason: `${reason}. Rolled back: ${undo.detail}`,
    };
  }

  /** What the adapter put live in this process, else the store's last live release of this target. */
  async status(signal?: AbortSignal): Promise<TargetStatus> {
    const own = await this.#cloud.status(signal);
    if (own.version !== undefined) {
      return {
        isServing: true,
        url: own.url ?? null,
        activeVersion: own.version,
        warmVersions: [],
        detail: own.detail,
      };
    }
    const recorded = await this.#lastLive();
    return recorded === null
      ? {
          isServing: false,
          url: null,
          activeVersion: null,
          warmVersions: [],
          detail: 'no live release recorded',
        }
      : {
          isServing: true,
          url: recorded.url,
          activeVersion: recorded.version,
          warmVersions: [],
          detail: `${recorded.version} is the last release recorded live on ${this.name} (the platform is not queried)`,
        };
  }

  /**
   * Back to an earlier release chosen by the deploy service: its built files are deployed again.
   * The platforms' own rollback only knows "the revision before", which after a few deploys is not
   * the release asked for; redeploying its files is the same path for every platform.
   */
  async rollback(release: Release, signal?: AbortSignal): Promise<RollbackOutcome> {
    if (!existsSync(release.directory)) {
      throw new LokiError(
        `the files of ${release.version} are gone (${release.directory}); deploy a new release instead`,
        { code: 'DEPLOY_RELEASE_FILES_MISSING', category: 'user', context: { version: release.version } },
      );
    }
    const deployed = await this.#cloud.deploy(release, signal);
    return { url: withoutTrailingSlash(deployed.url), version: release.version, wasWarm: false };
  }

  /** The container target's containers are removed; a platform's service is left alone (see capabilities). */
  async stop(signal?: AbortSignal): Promise<void> {
    if (this.#cloud instanceof ContainerTarget) await this.#cloud.removeAll(signal);
  }

  /** A rollback that fails is part of the outcome, never hidden: the release is then recorded failed. */
  async #undo(cause: string, signal: AbortSignal): Promise<RollbackResult> {
    try {
      return await this.#cloud.rollback(signal);
    } catch (error) {
      if (!isLokiError(error) || signal.aborted) throw error;
      throw new LokiError(
        `${cause}; the rollback failed too, so the failed release may still be serving: ${error.message}`,
        { code: DeployErrorCode.rolloutFailed, category: 'user', cause: error },
      );
    }
  }

  async #servingUrl(signal: AbortSignal): Promise<string | null> {
    const status = await this.#cloud.status(signal);
    return status.url === undefined ? null : withoutTrailingSlash(status.url);
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
