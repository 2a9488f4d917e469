import { existsSync } from 'node:fs';
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
import { type CredentialCheck, detectTool } from './detect-tool.ts';
import { readCliJson } from './read-cli-json.ts';

/**
 * Google Cloud Run through the official `gcloud` CLI. The release is deployed from source (Cloud
 * Build builds its Dockerfile); rollback sends all traffic back to the revision that served before.
 * Docs: https://cloud.google.com/sdk/gcloud/reference/run/deploy (`--source`, `--region`, `--quiet`),
 * https://cloud.google.com/sdk/gcloud/reference/run/services/describe (`status.url`,
 * `status.latestReadyRevisionName`), https://cloud.google.com/sdk/gcloud/reference/run/services/update-traffic
 * (`--to-revisions=REVISION=100` rolls back), https://cloud.google.com/sdk/gcloud/reference/auth/list.
 */
export interface CloudRunSettings {
  service: string;
  region: string;
  project?: string | undefined;
}

const serviceSchema = z.object({
  status: z.object({ url: z.string().optional(), latestReadyRevisionName: z.string().optional() }).loose(),
});

export class CloudRunTarget implements CloudTarget {
  readonly name = 'cloud-run';
  readonly #runner: CliRunner;
  readonly #settings: CloudRunSettings;
  #live: { url: string; version: string; directory: string; previousRevision?: string } | undefined;

  constructor(runner: CliRunner, settings: CloudRunSettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectCloudRun(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    const before = await this.#describe(release.directory, signal, { mayBeMissing: true });
    const previousRevision = before?.status.latestReadyRevisionName;
    // Recorded first: a deploy that fails after creating its revision may already take traffic.
    this.#live = {
      url: before?.status.url ?? '',
      version: release.version,
      directory: release.directory,
      ...(previousRevision === undefined ? {} : { previousRevision }),
    };
    await runOrThrow(
      this.#runner,
      {
        executable: 'gcloud',
        args: [
          'run',
          'deploy',
          this.#settings.service,
          '--source',
          release.directory,
          ...this.#scope(),
          '--quiet',
        ],
        cwd: release.directory,
        signal,
      },
      'gcloud run deploy',
    );
    const after = await this.#describe(release.directory, signal, { mayBeMissing: false });
    const url = after?.status.url;
    if (url === undefined) throw outputUnreadableError('gcloud run services describe', 'status.url');
    this.#live.url = url;
    return { url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined)
      return { rolledBack: false, detail: 'nothing to roll back: no deploy was started' };
    if (live.previousRevision === undefined) {
      return { rolledBack: false, detail: 'the service had no ready revision before this deploy' };
    }
    await runOrThrow(
      this.#runner,
      {
        executable: 'gcloud',
        args: [
          'run',
          'services',
          'update-traffic',
          this.#settings.service,
          `--to-revisions=${live.previousRevision}=100`,
          ...this.#scope(),
          '--quiet',
        ],
        cwd: live.directory,
        signal,
      },
      'gcloud run services update-traffic',
    );
    this.#live = undefined;
    return { rolledBack: true, detail: `all traffic back on revision ${live.previousRevision}` };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#live.url, version: this.#live.version, detail: `service ${this.#settings.service}` };
  }

  async #describe(
    cwd: string,
    signal: AbortSignal | undefined,
    options: { mayBeMissing: boolean },
  ): Promise<z.output<typeof serviceSchema> | undefined> {
    const invocation = {
      executable: 'gcloud',
      args: ['run', 'services', 'describe', this.#settings.service, ...this.#scope(), '--format=json'],
      cwd,
      signal,
    };
    // A first deploy creates the service: describing it before then fails, and that is expected.
    const outcome = options.mayBeMissing
      ? await this.#runner.run(invocation)
      : await runOrThrow(this.#runner, invocation, 'gcloud run services describe');
    if (outcome.exitCode !== 0) return undefined;
    const parsed = serviceSchema.safeParse(
      readCliJson(outcome.stdout, 'gcloud run services describe', 'JSON'),
    );
    if (!parsed.success) throw outputUnreadableError('gcloud run services describe', 'a service with status');
    return parsed.data;
  }

  #scope(): string[] {
    return [
      `--region=${this.#settings.region}`,
      ...(this.#settings.project === undefined ? [] : [`--project=${this.#settings.project}`]),
    ];
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectCloudRun(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(
    runner,
    { executables: ['gcloud'], install: 'https://cloud.google.com/sdk/docs/install' },
    () => credential(runner),
  );
}

/** A service-account key file, or an account gcloud is logged in with (read locally, no network). */
async function credential(runner: CliRunner): Promise<CredentialCheck> {
  const keyFile = runner.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (keyFile !== undefined && keyFile !== '' && existsSync(keyFile)) {
    return { isPresent: true, description: 'GOOGLE_APPLICATION_CREDENTIALS' };
  }
  const outcome = await runner.run({
    executable: 'gcloud',
    args: ['auth', 'list', '--filter=status:ACTIVE', '--format=value(account)'],
    cwd: '/',
    timeoutMilliseconds: 30_000,
  });
  if (outcome.exitCode === 0 && outcome.stdout.trim() !== '') {
    return { isPresent: true, description: 'an active gcloud account' };
  }
  return {
    isPresent: false,
    description:
      'no active gcloud account and no GOOGLE_APPLICATION_CREDENTIALS key file (run `gcloud auth login`)',
  };
}
