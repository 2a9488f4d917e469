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
import { buildImage, detectContainerEngine, imageTagFor, pushImage } from './container-engine.ts';
import { outputUnreadableError, rolloutFailedError } from './deploy-errors.ts';
import { type CredentialCheck, detectTool } from './detect-tool.ts';
import { readCliJson } from './read-cli-json.ts';

/**
 * Azure Container Apps through the official `az` CLI: the release is built into
 * `<imageRepository>:<version>` with the local engine and pushed (to a registry the engine is logged
 * in to, e.g. after `az acr login`), then `az containerapp update --image` creates a new revision.
 * Rollback updates the app back to the image it ran before, which works in single and multiple
 * revision mode alike.
 * Docs: https://learn.microsoft.com/cli/azure/containerapp#az-containerapp-update (`--name`,
 * `--resource-group`, `--image`), https://learn.microsoft.com/cli/azure/containerapp#az-containerapp-show
 * (`properties.configuration.ingress.fqdn`, `properties.template.containers[].image`),
 * https://learn.microsoft.com/azure/container-apps/revisions-manage, https://learn.microsoft.com/cli/azure/account#az-account-show.
 */
export interface ContainerAppsSettings {
  name: string;
  resourceGroup: string;
  imageRepository: string;
}

const appSchema = z.object({
  properties: z
    .object({
      provisioningState: z.string().optional(),
      configuration: z.object({ ingress: z.object({ fqdn: z.string() }).loose() }).loose(),
      template: z.object({ containers: z.array(z.object({ image: z.string() }).loose()).min(1) }).loose(),
    })
    .loose(),
});

export class ContainerAppsTarget implements CloudTarget {
  readonly name = 'container-apps';
  readonly #runner: CliRunner;
  readonly #settings: ContainerAppsSettings;
  #live: { url: string; version: string; directory: string; previousImage: string } | undefined;

  constructor(runner: CliRunner, settings: ContainerAppsSettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectContainerApps(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    const engine = await detectContainerEngine(this.#runner, 'auto', signal);
    if (!engine.usable)
      throw rolloutFailedError('Container Apps needs the release as an image', engine.reason);
    const tag = `${this.#settings.imageRepository}:${imageTagFor(release.version)}`;
    await buildImage(this.#runner, engine.engine, { directory: release.directory, tag, signal });
    await pushImage(this.#runner, engine.engine, { directory: release.directory, tag, signal });
    const before = await this.#show(release.directory, signal);
    const previousImage = before.properties.template.containers[0]?.image ?? '';
    // Recorded before the update: a failed update may already have created the new revision.
    this.#live = {
      url: `https://${before.properties.configuration.ingress.fqdn}`,
      version: release.version,
      directory: release.directory,
      previousImage,
    };
    await this.#updateImage(tag, release.directory, signal);
    return { url: this.#live.url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined)
      return { rolledBack: false, detail: 'nothing to roll back: no update was started' };
    await this.#updateImage(live.previousImage, live.directory, signal);
    this.#live = undefined;
    return { rolledBack: true, detail: `app back on ${live.previousImage}` };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#live.url, version: this.#live.version, detail: `container app ${this.#settings.name}` };
  }

  async #updateImage(image: string, cwd: string, signal: AbortSignal | undefined): Promise<void> {
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'az',
        args: ['containerapp', 'update', ...this.#scope(), '--image', image, '--output', 'json'],
        cwd,
        signal,
      },
      'az containerapp update',
    );
    const state = appSchema.safeParse(readCliJson(outcome.stdout, 'az containerapp update', 'JSON')).data
      ?.properties.provisioningState;
    if (state !== undefined && state !== 'Succeeded') {
      throw rolloutFailedError(`az containerapp update to ${image}`, `provisioning state ${state}`);
    }
  }

  async #show(cwd: string, signal: AbortSignal | undefined) {
    const outcome = await runOrThrow(
      this.#runner,
      { executable: 'az', args: ['containerapp', 'show', ...this.#scope(), '--output', 'json'], cwd, signal },
      'az containerapp show',
    );
    const parsed = appSchema.safeParse(readCliJson(outcome.stdout, 'az containerapp show', 'JSON'));
    if (!parsed.success)
      throw outputUnreadableError('az containerapp show', 'an app with ingress and a container image');
    return parsed.data;
  }

  #scope(): string[] {
    return ['--name', this.#settings.name, '--resource-group', this.#settings.resourceGroup];
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectContainerApps(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(
    runner,
    { executables: ['az'], install: 'https://learn.microsoft.com/cli/azure/install-azure-cli' },
    () => credential(runner),
  );
}

/** `az account show` reads the local login (no network): exit 0 means a subscription is selected. */
async function credential(runner: CliRunner): Promise<CredentialCheck> {
  const outcome = await runner.run({
    executable: 'az',
    args: ['account', 'show', '--output', 'none'],
    cwd: '/',
    timeoutMilliseconds: 30_000,
  });
  return outcome.exitCode === 0
    ? { isPresent: true, description: 'an Azure login (az account show)' }
    : { isPresent: false, description: 'not logged in to Azure (run `az login`)' };
}
