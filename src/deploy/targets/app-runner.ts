import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
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
 * AWS App Runner through the official `aws` CLI, for a service created from an ECR image: the
 * release is built into `<imageRepository>:<version>` with the local container engine, pushed, and
 * the service's source configuration is updated to it. App Runner rolls a failed update back by
 * itself (operation status ROLLBACK_SUCCEEDED); after a successful one that fails Loki's checks,
 * rollback updates the service back to the image it had before. (AWS closes App Runner to new
 * customers from 2026-03-31; existing services keep working.)
 * Docs: https://docs.aws.amazon.com/cli/latest/reference/apprunner/describe-service.html
 * (`Service.ServiceUrl`, `Service.SourceConfiguration`),
 * https://docs.aws.amazon.com/cli/latest/reference/apprunner/update-service.html (`--service-arn`,
 * `--source-configuration`, returns `OperationId`),
 * https://docs.aws.amazon.com/cli/latest/reference/apprunner/list-operations.html (`Status`).
 */
export interface AppRunnerSettings {
  serviceArn: string;
  region: string;
  imageRepository: string;
  pollIntervalMilliseconds?: number;
  maxPolls?: number;
}

const describeSchema = z.object({
  Service: z.object({
    ServiceUrl: z.string(),
    SourceConfiguration: z
      .object({ ImageRepository: z.object({ ImageIdentifier: z.string() }).loose() })
      .loose(),
  }),
});
const updateSchema = z.object({ OperationId: z.string() });
const operationsSchema = z.object({
  OperationSummaryList: z.array(z.object({ Id: z.string(), Status: z.string() }).loose()),
});
type SourceConfiguration = z.output<typeof describeSchema>['Service']['SourceConfiguration'];

export class AppRunnerTarget implements CloudTarget {
  readonly name = 'app-runner';
  readonly #runner: CliRunner;
  readonly #settings: AppRunnerSettings;
  #live: { url: string; version: string; directory: string; previous: SourceConfiguration } | undefined;

  constructor(runner: CliRunner, settings: AppRunnerSettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectAppRunner(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    const engine = await detectContainerEngine(this.#runner, 'auto', signal);
    if (!engine.usable) throw rolloutFailedError('App Runner needs the release as an image', engine.reason);
    const tag = `${this.#settings.imageRepository}:${imageTagFor(release.version)}`;
    await buildImage(this.#runner, engine.engine, { directory: release.directory, tag, signal });
    await pushImage(this.#runner, engine.engine, { directory: release.directory, tag, signal });
    const before = await this.#describe(release.directory, signal);
    const next = {
      ...before.SourceConfiguration,
      ImageRepository: { ...before.SourceConfiguration.ImageRepository, ImageIdentifier: tag },
    };
    await this.#updateAndWait(next, release.directory, signal);
    this.#live = {
      url: httpsUrl(before.ServiceUrl),
      version: release.version,
      directory: release.directory,
      previous: before.SourceConfiguration,
    };
    return { url: this.#live.url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined) {
      return {
        rolledBack: false,
        detail: 'nothing to roll back: the update did not go live (App Runner keeps the previous image)',
      };
    }
    await this.#updateAndWait(live.previous, live.directory, signal);
    this.#live = undefined;
    return { rolledBack: true, detail: `service back on ${live.previous.ImageRepository.ImageIdentifier}` };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#live.url, version: this.#live.version, detail: this.#settings.serviceArn };
  }

  async #describe(cwd: string, signal: AbortSignal | undefined) {
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'aws',
        args: ['apprunner', 'describe-service', ...this.#scope(), '--output', 'json'],
        cwd,
        signal,
      },
      'aws apprunner describe-service',
    );
    const parsed = describeSchema.safeParse(
      readCliJson(outcome.stdout, 'aws apprunner describe-service', 'JSON'),
    );
    if (!parsed.success) {
      throw outputUnreadableError(
        'aws apprunner describe-service',
        'an image-based service (Service.SourceConfiguration.ImageRepository)',
      );
    }
    return parsed.data.Service;
  }

  async #updateAndWait(
    source: SourceConfiguration,
    cwd: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'aws',
        args: [
          'apprunner',
          'update-service',
          ...this.#scope(),
          '--source-configuration',
          JSON.stringify(source),
          '--output',
          'json',
        ],
        cwd,
        signal,
      },
      'aws apprunner update-service',
    );
    const update = updateSchema.safeParse(
      readCliJson(outcome.stdout, 'aws apprunner update-service', 'JSON'),
    );
    if (!update.success) throw outputUnreadableError('aws apprunner update-service', 'OperationId');
    const maxPolls = this.#settings.maxPolls ?? 360;
    for (let poll = 0; poll < maxPolls; poll++) {
      const status = await this.#operationStatus(update.data.OperationId, cwd, signal);
      if (status === 'SUCCEEDED') return;
      if (status !== 'PENDING' && status !== 'IN_PROGRESS' && status !== undefined) {
        throw rolloutFailedError(`App Runner operation ${update.data.OperationId}`, `ended ${status}`);
      }
      await delay(this.#settings.pollIntervalMilliseconds ?? 5000, undefined, { signal });
    }
    throw rolloutFailedError(
      `App Runner operation ${update.data.OperationId}`,
      `still running after ${maxPolls} checks`,
    );
  }

  async #operationStatus(
    operationId: string,
    cwd: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const outcome = await runOrThrow(
      this.#runner,
      {
        executable: 'aws',
        args: ['apprunner', 'list-operations', ...this.#scope(), '--output', 'json'],
        cwd,
        signal,
      },
      'aws apprunner list-operations',
    );
    const parsed = operationsSchema.safeParse(
      readCliJson(outcome.stdout, 'aws apprunner list-operations', 'JSON'),
    );
    if (!parsed.success) throw outputUnreadableError('aws apprunner list-operations', 'OperationSummaryList');
    return parsed.data.OperationSummaryList.find((operation) => operation.Id === operationId)?.Status;
  }

  #scope(): string[] {
    return ['--service-arn', this.#settings.serviceArn, '--region', this.#settings.region];
  }
}

/** App Runner reports the service URL without a scheme. */
function httpsUrl(serviceUrl: string): string {
  return /^https?:\/\//.test(serviceUrl) ? serviceUrl : `https://${serviceUrl}`;
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectAppRunner(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(
    runner,
    {
      executables: ['aws'],
      install: 'https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html',
    },
    () => credential(runner),
  );
}

/** Static keys, a profile, web identity, or a shared credentials file: presence only. */
function credential(runner: CliRunner): CredentialCheck {
  const env = runner.env;
  const isSet = (name: string) => (env[name] ?? '').trim() !== '';
  if (isSet('AWS_ACCESS_KEY_ID') && isSet('AWS_SECRET_ACCESS_KEY')) {
    return { isPresent: true, description: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' };
  }
  for (const name of ['AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE']) {
    if (isSet(name)) return { isPresent: true, description: name };
  }
  const credentialsFile =
    env.AWS_SHARED_CREDENTIALS_FILE ??
    (env.HOME === undefined ? undefined : join(env.HOME, '.aws', 'credentials'));
  if (credentialsFile !== undefined && existsSync(credentialsFile)) {
    return { isPresent: true, description: 'the shared credentials file' };
  }
  return {
    isPresent: false,
    description:
      'no AWS credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run `aws configure`)',
  };
}
