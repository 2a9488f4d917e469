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
import { detectTool, environmentCredential, firstOnPath } from './detect-tool.ts';
import { readCliJson } from './read-cli-json.ts';

/**
 * Fly.io through the official `flyctl` (or `fly`) CLI, authenticated by FLY_API_TOKEN from the
 * environment. Fly has no rollback command: a rollback redeploys the previous release's image.
 * Docs: https://fly.io/docs/flyctl/deploy/ (`flyctl deploy [WORKING_DIRECTORY] --app`, `--image`,
 * `--remote-only`), https://fly.io/docs/blueprints/rollback-guide/ (`fly releases --image`, then
 * `fly deploy --image <previous image>`), https://fly.io/docs/flyctl/releases/ (`--json`).
 */
export interface FlySettings {
  app: string;
}

/** flyctl prints releases newest first; the image field is `ImageRef`. */
const releasesSchema = z.array(z.object({ ImageRef: z.string().optional() }).loose());

export class FlyTarget implements CloudTarget {
  readonly name = 'fly';
  readonly #runner: CliRunner;
  readonly #settings: FlySettings;
  #live: { url: string; version: string; directory: string; previousImage?: string } | undefined;

  constructor(runner: CliRunner, settings: FlySettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectFly(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    const previousImage = await this.#currentImage(release.directory, signal);
    // Set before the deploy: a deploy that fails halfway may already have replaced machines.
    const url = `https://${this.#settings.app}.fly.dev`;
    this.#live = {
      url,
      version: release.version,
      directory: release.directory,
      ...(previousImage === undefined ? {} : { previousImage }),
    };
    await runOrThrow(
      this.#runner,
      {
        executable: this.#executable(),
        args: ['deploy', release.directory, '--app', this.#settings.app, '--remote-only'],
        cwd: release.directory,
        signal,
      },
      'flyctl deploy',
    );
    return { url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined)
      return { rolledBack: false, detail: 'nothing to roll back: no deploy was started' };
    if (live.previousImage === undefined) {
      return { rolledBack: false, detail: 'the app had no earlier release image to return to' };
    }
    await runOrThrow(
      this.#runner,
      {
        executable: this.#executable(),
        args: ['deploy', '--app', this.#settings.app, '--image', live.previousImage],
        cwd: live.directory,
        signal,
      },
      'flyctl deploy --image (rollback)',
    );
    this.#live = undefined;
    return { rolledBack: true, detail: `redeployed the previous image ${live.previousImage}` };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#live.url, version: this.#live.version, detail: `app ${this.#settings.app}` };
  }

  async #currentImage(cwd: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: this.#executable(),
        args: ['releases', '--app', this.#settings.app, '--image', '--json'],
        cwd,
        signal,
      },
      'flyctl releases',
    );
    const parsed = releasesSchema.safeParse(readCliJson(outcome.stdout, 'flyctl releases', 'a JSON list'));
    if (!parsed.success) throw outputUnreadableError('flyctl releases --json', 'a list of releases');
    return parsed.data.find((entry) => entry.ImageRef !== undefined && entry.ImageRef !== '')?.ImageRef;
  }

  #executable(): string {
    return firstOnPath(this.#runner, ['flyctl', 'fly']) ?? 'flyctl';
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectFly(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(
    runner,
    { executables: ['flyctl', 'fly'], install: 'https://fly.io/docs/flyctl/install/' },
    () => environmentCredential(runner.env, 'FLY_API_TOKEN', 'create one with `flyctl tokens create deploy`'),
  );
}
