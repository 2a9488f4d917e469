import { join } from 'node:path';
import { z } from 'zod';
import { type CliRunner, runOrThrow } from './cli-runner.ts';
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
import { readCliJson } from './read-cli-json.ts';

/**
 * Netlify through the official `netlify` CLI, authenticated by NETLIFY_AUTH_TOKEN (read by the CLI
 * from the environment, so the token is never an argument).
 * Docs: https://cli.netlify.com/commands/deploy (`--prod`, `--json`, `--dir`, `--site`; the JSON
 * holds `deploy_id` and `url`), https://cli.netlify.com/commands/api and
 * https://open-api.netlify.com (`getSite` → `published_deploy`, `restoreSiteDeploy` = rollback).
 */
export interface NetlifySettings {
  site: string;
  /** The published folder inside the release; the release root when absent. */
  dir?: string | undefined;
}

const deployOutputSchema = z.object({ deploy_id: z.string(), url: z.string() });
const siteSchema = z.object({ published_deploy: z.object({ id: z.string() }).nullish() });

export class NetlifyTarget implements CloudTarget {
  readonly name = 'netlify';
  readonly #runner: CliRunner;
  readonly #settings: NetlifySettings;
  #live: { url: string; version: string; directory: string; previousDeployId?: string } | undefined;

  constructor(runner: CliRunner, settings: NetlifySettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectNetlify(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    const previousDeployId = await this.#publishedDeployId(release.directory, signal);
    const directory =
      this.#settings.dir === undefined ? release.directory : join(release.directory, this.#settings.dir);
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'netlify',
        args: ['deploy', '--prod', '--json', '--dir', directory, '--site', this.#settings.site],
        cwd: release.directory,
        signal,
      },
      'netlify deploy',
    );
    const parsed = deployOutputSchema.safeParse(readCliJson(outcome.stdout, 'netlify deploy', 'JSON'));
    if (!parsed.success) throw outputUnreadableError('netlify deploy --json', 'deploy_id and url');
    this.#live = {
      url: parsed.data.url,
      version: release.version,
      directory: release.directory,
      ...(previousDeployId === undefined ? {} : { previousDeployId }),
    };
    return { url: parsed.data.url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined)
      return { rolledBack: false, detail: 'nothing to roll back: no deploy was published' };
    if (live.previousDeployId === undefined) {
      return { rolledBack: false, detail: 'the site had no published deploy before this one' };
    }
    const data = JSON.stringify({ site_id: this.#settings.site, deploy_id: live.previousDeployId });
    await runOrThrow(
      this.#runner,
      {
        executable: 'netlify',
        args: ['api', 'restoreSiteDeploy', '--data', data],
        cwd: live.directory,
        signal,
      },
      'netlify api restoreSiteDeploy',
    );
    this.#live = undefined;
    return { rolledBack: true, detail: `restored deploy ${live.previousDeployId}` };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#live.url, version: this.#live.version, detail: `site ${this.#settings.site}` };
  }

  async #publishedDeployId(cwd: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'netlify',
        args: ['api', 'getSite', '--data', JSON.stringify({ site_id: this.#settings.site })],
        cwd,
        signal,
      },
      'netlify api getSite',
    );
    const parsed = siteSchema.safeParse(readCliJson(outcome.stdout, 'netlify api getSite', 'JSON'));
    if (!parsed.success) throw outputUnreadableError('netlify api getSite', 'a site object');
    return parsed.data.published_deploy?.id;
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectNetlify(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(runner, { executables: ['netlify'], install: 'npm install -g netlify-cli' }, () =>
    environmentCredential(
      runner.env,
      'NETLIFY_AUTH_TOKEN',
      'create a personal access token at https://app.netlify.com/user/applications',
    ),
  );
}
