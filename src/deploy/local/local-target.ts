import { setTimeout as delay } from 'node:timers/promises';
import { LokiError } from '../../errors/index.ts';
import type {
  DeployOptions,
  DeployOutcome,
  DeployTarget,
  Release,
  RollbackOutcome,
  TargetAvailability,
  TargetStatus,
} from '../target.ts';
import { type CanaryThresholds, DEFAULT_CANARY_THRESHOLDS, watchCanary } from './canary.ts';
import { SupervisorClient } from './supervisor-client.ts';
import type { SupervisorStatus } from './supervisor-protocol.ts';

/**
 * Where bwrap is when the sandbox is usable: the apps then run inside it. Null: plain processes.
 * A function finds it out when an app is first started: the trial run that tells whether bubblewrap
 * works here takes 0.1–0.2 s, which a rollback to a release still running never needs.
 */
export type BubblewrapPath = string | null | (() => Promise<string | null>);

export interface LocalTargetOptions {
  workspaceRoot: string;
  bubblewrapPath: BubblewrapPath;
  /** The supervisor's environment when one must be started (PATH and HOME reach the apps). */
  env: NodeJS.ProcessEnv;
  canaryThresholds?: CanaryThresholds;
}

const HEALTH_DEADLINE_MILLISECONDS = 30_000;

/**
 * The default target: releases run on this machine under the detached supervisor, behind its proxy
 * at a stable `http://127.0.0.1:<port>`. Blue-green: the new release starts beside the old one,
 * is verified on its own port, then the proxy switches in one step; the old one stays warm, so a
 * rollback is a route change. Canary: the proxy shares requests between the two while Loki
 * compares them.
 */
export class LocalTarget implements DeployTarget {
  readonly name = 'local';
  readonly capabilities = {
    strategies: ['blue-green', 'canary'] as const,
    keepsPreviousWarm: true,
    stopsServing: true,
  };
  private readonly client: SupervisorClient;
  private readonly options: LocalTargetOptions;
  private bubblewrapPath: Promise<string | null> | null = null;

  constructor(options: LocalTargetOptions) {
    this.options = options;
    this.client = new SupervisorClient(options.workspaceRoot);
  }

  detect(): Promise<TargetAvailability> {
    return Promise.resolve({ usable: true, reason: 'runs releases on this machine behind a local proxy' });
  }

  async deploy(release: Release, options: DeployOptions): Promise<DeployOutcome> {
    const progress = options.onProgress ?? (() => undefined);
    const supervisor = await this.client.ensureRunning(this.options.env);
    const proxyUrl = urlOf(supervisor);
    const previous = supervisor.route.active;
    const app = await this.client.startApp({
      version: release.version,
      directory: release.directory,
      startCommand: release.startCommand,
      bubblewrapPath: await this.sandboxPath(),
    });
    progress(`${release.version} started on port ${String(app.port)}; checking it before it takes traffic`);
    const checks = await options.verify(`http://127.0.0.1:${String(app.port)}`, options.signal);
    const failed = checks.filter((check) => check.verdict === 'fail');
    if (failed.length > 0) {
      await this.client.stopApp(release.version);
      const reason = `${release.version} failed ${failed.map((check) => check.name).join(', ')}: ${failed[0]?.detail ?? ''}`;
      return { status: 'rolled_back', url: previous === null ? null : proxyUrl, checks, reason };
    }
    if (options.strategy === 'canary' && previous !== null) {
      const canary = await watchCanary({
        client: this.client,
        proxyUrl,
        release,
        baselineVersion: previous,
        thresholds: this.options.canaryThresholds ?? DEFAULT_CANARY_THRESHOLDS,
        signal: options.signal,
        onProgress: progress,
      });
      if (!canary.passed) {
        await this.client.setRoute({ active: previous, canary: null });
        await this.client.stopApp(release.version);
        return {
          status: 'rolled_back',
          url: proxyUrl,
          checks,
          reason: canary.reason,
          canarySteps: canary.steps,
        };
      }
      await this.switchTo(release.version, previous);
      return { status: 'live', url: proxyUrl, checks, reason: null, canarySteps: canary.steps };
    }
    await this.switchTo(release.version, previous);
    progress(`${release.version} serves ${proxyUrl}`);
    return { status: 'live', url: proxyUrl, checks, reason: null };
  }

  async status(): Promise<TargetStatus> {
    const supervisor = await this.client.status();
    if (supervisor === null) {
      return {
        isServing: false,
        url: null,
        activeVersion: null,
        warmVersions: [],
        detail: 'no supervisor running',
      };
    }
    const active = supervisor.route.active;
    const apps = supervisor.apps.map(
      (app) =>
        `${app.version} pid ${String(app.pid ?? '-')} port ${String(app.port)} ${app.state}, ${String(app.restarts)} restart(s)`,
    );
    return {
      isServing: active !== null,
      url: urlOf(supervisor),
      activeVersion: active,
      warmVersions: supervisor.apps.map((app) => app.version).filter((version) => version !== active),
      detail: `supervisor pid ${String(supervisor.pid)}; ${apps.join('; ') || 'no release running'}`,
    };
  }

  async rollback(release: Release, signal?: AbortSignal): Promise<RollbackOutcome> {
    const supervisor = await this.client.ensureRunning(this.options.env);
    const previous = supervisor.route.active;
    const warm = supervisor.apps.find((app) => app.version === release.version && app.state !== 'stopped');
    if (warm === undefined) {
      const app = await this.client.startApp({
        version: release.version,
        directory: release.directory,
        startCommand: release.startCommand,
        bubblewrapPath: await this.sandboxPath(),
      });
      await waitForHealth(`http://127.0.0.1:${String(app.port)}${release.healthPath}`, signal);
    }
    await this.switchTo(release.version, previous === release.version ? null : previous);
    return { url: urlOf(supervisor), version: release.version, wasWarm: warm !== undefined };
  }

  async stop(): Promise<void> {
    await this.client.shutdown();
  }

  /** bwrap for an app about to start, found out once (see BubblewrapPath). */
  private sandboxPath(): Promise<string | null> {
    const option = this.options.bubblewrapPath;
    if (typeof option !== 'function') return Promise.resolve(option);
    this.bubblewrapPath ??= option();
    return this.bubblewrapPath;
  }

  /** Routes all traffic to `version`, keeps `keepWarm` running for a rollback and stops the rest. */
  private async switchTo(version: string, keepWarm: string | null): Promise<void> {
    const status = await this.client.setRoute({ active: version, canary: null });
    for (const app of status.apps) {
      if (app.version !== version && app.version !== keepWarm) await this.client.stopApp(app.version);
    }
  }
}

function urlOf(supervisor: SupervisorStatus): string {
  return `http://127.0.0.1:${String(supervisor.proxyPort)}`;
}

/** Polls a health URL until it answers 2xx or the deadline passes. */
async function waitForHealth(url: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + HEALTH_DEADLINE_MILLISECONDS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${String(response.status)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await delay(100);
  }
  throw new LokiError(
    `${url} did not answer 2xx within ${String(HEALTH_DEADLINE_MILLISECONDS / 1000)} s (last: ${last}); see .loki/deploy/logs/`,
    {
      code: 'DEPLOY_HEALTH_TIMEOUT',
      category: 'user',
    },
  );
}
