import { type CliRunner, runOrThrow } from './cli-runner.ts';
import type {
  CloudTarget,
  DeployedRelease,
  Release,
  RollbackResult,
  TargetDetection,
  TargetStatus,
} from './cloud-target.ts';
import {
  buildImage,
  type ContainerEngineName,
  detectContainerEngine,
  imageTagFor,
} from './container-engine.ts';
import { outputUnreadableError, rolloutFailedError } from './deploy-errors.ts';

/**
 * The release as a container on this machine, through docker or podman (the same commands on
 * both). Blue-green: the new container starts beside the serving one, on its own loopback port;
 * the previous one is kept running (warm) so that rollback is switching back to it, and only the
 * one before that is removed. Post-deploy checks (deployAndVerify) decide whether it stays.
 * Docs: https://docs.docker.com/reference/cli/docker/buildx/build/, https://docs.docker.com/reference/cli/docker/container/run/
 * (`--detach`, `--name`, `--label`, `--publish 127.0.0.1::PORT` = a free loopback port),
 * https://docs.docker.com/reference/cli/docker/container/port/, https://docs.podman.io/en/latest/markdown/podman-run.1.html.
 */
export interface ContainerSettings {
  /** Names images and containers (`loki-<project>:<version>`); letters, digits, `-`. */
  project: string;
  engine: 'auto' | ContainerEngineName;
  /** The port the app listens on inside the container. */
  port: number;
}

interface RunningContainer {
  name: string;
  url: string;
  version: string;
  directory: string;
}

export class ContainerTarget implements CloudTarget {
  readonly name = 'container';
  readonly #runner: CliRunner;
  readonly #settings: ContainerSettings;
  #engine: ContainerEngineName | undefined;
  #current: RunningContainer | undefined;
  #previous: RunningContainer | undefined;

  constructor(runner: CliRunner, settings: ContainerSettings) {
    this.#runner = runner;
    this.#settings = { ...settings, project: containerName(settings.project) };
  }

  async detect(): Promise<TargetDetection> {
    const detection = await detectContainerEngine(this.#runner, this.#settings.engine);
    if (detection.usable) this.#engine = detection.engine;
    return { usable: detection.usable, reason: detection.reason };
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    const engine = await this.#usableEngine(signal);
    const version = imageTagFor(release.version);
    const image = `loki-${this.#settings.project}:${version}`;
    const name = `loki-${this.#settings.project}-${version}`;
    await buildImage(this.#runner, engine, { directory: release.directory, tag: image, signal });
    // Redeploying a version replaces its container; the serving one (another version) is untouched.
    await this.#remove(name, release.directory, signal);
    await runOrThrow(
      this.#runner,
      {
        executable: engine,
        args: [
          'run',
          '--detach',
          '--name',
          name,
          '--label',
          `loki.project=${this.#settings.project}`,
          '--publish',
          `127.0.0.1::${this.#settings.port}`,
          image,
        ],
        cwd: release.directory,
        signal,
      },
      `${engine} run`,
    );
    const url = await this.#publishedUrl(engine, name, release.directory, signal);
    const retired = this.#previous;
    this.#previous = this.#current;
    this.#current = { name, url, version: release.version, directory: release.directory };
    if (retired !== undefined && retired.name !== name)
      await this.#remove(retired.name, retired.directory, signal);
    return { url };
  }

  /** Switches back to the previous container, which kept running, and removes the failed one. */
  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const failed = this.#current;
    if (failed === undefined)
      return { rolledBack: false, detail: 'nothing to roll back: no container was started' };
    await this.#remove(failed.name, failed.directory, signal);
    this.#current = this.#previous;
    this.#previous = undefined;
    return this.#current === undefined
      ? { rolledBack: true, detail: `removed ${failed.name}; no earlier container was serving` }
      : { rolledBack: true, detail: `serving ${this.#current.name} again at ${this.#current.url}` };
  }

  async status(): Promise<TargetStatus> {
    return this.#current === undefined
      ? { detail: 'no container started by this process' }
      : { url: this.#current.url, version: this.#current.version, detail: this.#current.name };
  }

  /**
   * Removes every container of this project (the serving one and the warm previous one), found by
   * the label `deploy` puts on them, so that another process (`loki deploy stop`) can remove them.
   * Without a usable engine nothing of this target can be running: nothing to remove.
   */
  async removeAll(signal?: AbortSignal): Promise<void> {
    if (this.#engine === undefined) {
      const detection = await detectContainerEngine(this.#runner, this.#settings.engine, signal);
      if (!detection.usable) return;
      this.#engine = detection.engine;
    }
    const listed = await runOrThrow(
      this.#runner,
      {
        executable: this.#engine,
        args: ['ps', '--all', '--quiet', '--filter', `label=loki.project=${this.#settings.project}`],
        cwd: '/',
        signal,
      },
      `${this.#engine} ps`,
    );
    for (const id of listed.stdout.split('\n').map((line) => line.trim())) {
      if (id !== '') await this.#remove(id, '/', signal);
    }
    this.#current = undefined;
    this.#previous = undefined;
  }

  async #usableEngine(signal: AbortSignal | undefined): Promise<ContainerEngineName> {
    if (this.#engine !== undefined) return this.#engine;
    const detection = await detectContainerEngine(this.#runner, this.#settings.engine, signal);
    if (!detection.usable) throw rolloutFailedError('the container target cannot run here', detection.reason);
    this.#engine = detection.engine;
    return detection.engine;
  }

  async #publishedUrl(
    engine: ContainerEngineName,
    name: string,
    cwd: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const outcome = await runOrThrow(
      this.#runner,
      { executable: engine, args: ['port', name, `${this.#settings.port}/tcp`], cwd, signal },
      `${engine} port`,
    );
    const match = /127\.0\.0\.1:(\d+)/.exec(outcome.stdout);
    if (match?.[1] === undefined) throw outputUnreadableError(`${engine} port`, '127.0.0.1:<port>');
    return `http://127.0.0.1:${match[1]}`;
  }

  /** `rm --force` of a container that does not exist fails; that is the expected "already gone". */
  async #remove(name: string, cwd: string, signal: AbortSignal | undefined): Promise<void> {
    const engine = this.#engine;
    if (engine === undefined) return;
    await this.#runner.run({ executable: engine, args: ['rm', '--force', name], cwd, signal });
  }
}

function containerName(project: string): string {
  const cleaned = project
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return cleaned === '' ? 'app' : cleaned.slice(0, 60);
}
