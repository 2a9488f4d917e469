import type { CliRunner } from './cli-runner.ts';
import { runOrThrow } from './cli-runner.ts';
import type {
  CloudTarget,
  TargetDetection,
  DeployedRelease,
  Release,
  RollbackResult,
  TargetStatus,
} from './cloud-target.ts';
import { outputUnreadableError } from './deploy-errors.ts';
import { detectTool, environmentCredential } from './detect-tool.ts';
import { lastUrlIn } from './read-cli-json.ts';

/**
 * Vercel through the official `vercel` CLI.
 * Docs: https://vercel.com/docs/cli/deploy ("stdout is always the Deployment URL"; `--prod`, `--yes`),
 * https://vercel.com/docs/cli/global-options (`--token`, `--scope`),
 * https://vercel.com/docs/cli/rollback (`vercel rollback` with no argument: the previous production deployment).
 */
export interface VercelSettings {
  scope?: string | undefined;
}

export class VercelTarget implements CloudTarget {
  readonly name = 'vercel';
  readonly #runner: CliRunner;
  readonly #settings: VercelSettings;
  #live: { url: string; version: string; directory: string } | undefined;
  /** Set only once a production deployment succeeded: a failed one never replaced what served. */
  #hasReplacedProduction = false;

  constructor(runner: CliRunner, settings: VercelSettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectVercel(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#hasReplacedProduction = false;
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'vercel',
        args: ['deploy', release.directory, '--prod', '--yes', ...this.#commonArgs()],
        cwd: release.directory,
        signal,
      },
      'vercel deploy',
    );
    const url = lastUrlIn(outcome.stdout);
    if (url === undefined) throw outputUnreadableError('vercel deploy', 'the deployment URL on stdout');
    this.#hasReplacedProduction = true;
    this.#live = { url, version: release.version, directory: release.directory };
    return { url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    if (!this.#hasReplacedProduction || this.#live === undefined) {
      return { rolledBack: false, detail: 'nothing to roll back: production was not replaced' };
    }
    await runOrThrow(
      this.#runner,
      {
        executable: 'vercel',
        args: ['rollback', ...this.#commonArgs()],
        cwd: this.#live.directory,
        signal,
      },
      'vercel rollback',
    );
    this.#hasReplacedProduction = false;
    this.#live = undefined;
    return { rolledBack: true, detail: 'vercel rollback: production points at the previous deployment' };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#live.url, version: this.#live.version, detail: 'production deployment' };
  }

  /** The token goes as `--token`, the documented global option; the runner redacts it from every output. */
  #commonArgs(): string[] {
    const token = this.#runner.env.VERCEL_TOKEN ?? '';
    return [
      '--token',
      token,
      ...(this.#settings.scope === undefined ? [] : ['--scope', this.#settings.scope]),
    ];
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectVercel(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(runner, { executables: ['vercel'], install: 'npm install -g vercel' }, () =>
    environmentCredential(runner.env, 'VERCEL_TOKEN', 'create one at https://vercel.com/account/tokens'),
  );
}
