import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LokiError } from '../../errors/index.ts';
import { type CliRunner, runOrThrow } from './cli-runner.ts';
import { DeployErrorCode, outputTail } from './deploy-errors.ts';

export type ContainerEngineName = 'docker' | 'podman';

export type ContainerEngineDetection =
  { usable: true; engine: ContainerEngineName; reason: string } | { usable: false; reason: string };

/**
 * An engine is usable when `<engine> info` succeeds: the CLI alone is not enough (a docker client
 * without a reachable daemon, a podman without user namespaces). Docs:
 * https://docs.docker.com/reference/cli/docker/system/info/, https://docs.podman.io/en/latest/markdown/podman-info.1.html
 */
export async function detectContainerEngine(
  runner: CliRunner,
  preference: 'auto' | ContainerEngineName = 'auto',
  signal?: AbortSignal,
): Promise<ContainerEngineDetection> {
  const candidates: ContainerEngineName[] = preference === 'auto' ? ['docker', 'podman'] : [preference];
  const problems: string[] = [];
  for (const engine of candidates) {
    if (!runner.isOnPath(engine)) {
      problems.push(`${engine} not on PATH`);
      continue;
    }
    const outcome = await runner.run({
      executable: engine,
      args: ['info', '--format', '{{json .}}'],
      cwd: '/',
      timeoutMilliseconds: 30_000,
      signal,
    });
    if (outcome.exitCode === 0) return { usable: true, engine, reason: `${engine} info succeeded` };
    const said =
      outputTail(outcome.stderr, 2) || outputTail(outcome.stdout, 2) || `exit ${String(outcome.exitCode)}`;
    problems.push(`${engine} info failed: ${said.replace(/\s+/g, ' ')}`);
  }
  return { usable: false, reason: `no usable container engine: ${problems.join('; ')}` };
}

/**
 * Builds the release's Dockerfile (written by the Deployment agent) into `tag`: the check that it
 * builds. A release without a Dockerfile is refused before any engine runs.
 */
export async function buildImage(
  runner: CliRunner,
  engine: ContainerEngineName,
  options: { directory: string; tag: string; signal?: AbortSignal | undefined },
): Promise<void> {
  if (!existsSync(join(options.directory, 'Dockerfile'))) {
    throw new LokiError(
      `the release in ${options.directory} has no Dockerfile. The Deployment agent writes one for container and image-based targets; run the Deployment phase again or add it.`,
      {
        code: DeployErrorCode.dockerfileMissing,
        category: 'user',
        context: { directory: options.directory },
      },
    );
  }
  await runOrThrow(
    runner,
    {
      executable: engine,
      args: [
        'build',
        '--tag',
        options.tag,
        '--file',
        join(options.directory, 'Dockerfile'),
        options.directory,
      ],
      cwd: options.directory,
      signal: options.signal,
    },
    `${engine} build`,
  );
}

/** Pushes to a registry the engine is already logged in to (`docker login`; for ECR/ACR their login commands). */
export async function pushImage(
  runner: CliRunner,
  engine: ContainerEngineName,
  options: { directory: string; tag: string; signal?: AbortSignal | undefined },
): Promise<void> {
  await runOrThrow(
    runner,
    { executable: engine, args: ['push', options.tag], cwd: options.directory, signal: options.signal },
    `${engine} push`,
  );
}

/** Image tags allow [A-Za-z0-9_.-], up to 128 characters, not starting with . or -. */
export function imageTagFor(version: string): string {
  const cleaned = version.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '');
  return (cleaned === '' ? 'release' : cleaned).slice(0, 128);
}
