import { type CliRunner, runOrThrow } from './cli-runner.ts';
import type {
  CloudTarget,
  TargetDetection,
  DeployedRelease,
  Release,
  RollbackResult,
  TargetStatus,
} from './cloud-target.ts';
import { detectTool, environmentCredential } from './detect-tool.ts';

/**
 * Railway through the official `railway` CLI, authenticated by a project token in RAILWAY_TOKEN.
 * The CLI has no "roll back to a chosen deployment" command; its documented undo is `railway down`,
 * which removes the most recent successful deployment, so that is what rollback does here.
 * The service's public URL is configured (`railway.url`): the CLI's domain command creates a
 * domain when there is none, which a deploy must not do behind the user's back.
 * Docs: https://docs.railway.com/cli/deploying (`railway up --ci`, `--service`, `--environment`),
 * https://docs.railway.com/cli/down (`--service`, `--environment`, `--yes`),
 * https://docs.railway.com/guides/cli#tokens (RAILWAY_TOKEN).
 */
export interface RailwaySettings {
  service: string;
  environment?: string | undefined;
  url: string;
}

export class RailwayTarget implements CloudTarget {
  readonly name = 'railway';
  readonly #runner: CliRunner;
  readonly #settings: RailwaySettings;
  #live: { version: string; directory: string } | undefined;

  constructor(runner: CliRunner, settings: RailwaySettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectRailway(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    // `--ci` streams the build logs and exits non-zero when the build or deploy fails.
    await runOrThrow(
      this.#runner,
      {
        executable: 'railway',
        args: ['up', release.directory, '--ci', ...this.#scope()],
        cwd: release.directory,
        signal,
      },
      'railway up',
    );
    this.#live = { version: release.version, directory: release.directory };
    return { url: this.#settings.url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined)
      return { rolledBack: false, detail: 'nothing to roll back: no deployment succeeded' };
    await runOrThrow(
      this.#runner,
      { executable: 'railway', args: ['down', ...this.#scope(), '--yes'], cwd: live.directory, signal },
      'railway down',
    );
    this.#live = undefined;
    return { rolledBack: true, detail: 'removed the failed deployment with railway down' };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#settings.url, version: this.#live.version, detail: `service ${this.#settings.service}` };
  }

  #scope(): string[] {
    return [
      '--service',
      this.#settings.service,
      ...(this.#settings.environment === undefined ? [] : ['--environment', this.#settings.environment]),
    ];
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectRailway(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(runner, { executables: ['railway'], install: 'npm install -g @railway/cli' }, () =>
    environmentCredential(runner.env, 'RAILWAY_TOKEN', 'create a project token in the project settings'),
  );
}
