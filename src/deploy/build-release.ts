import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LokiError } from '../errors/index.ts';
import { runGit } from '../git/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';

const execFileAsync = promisify(execFile);
const BUILD_TIMEOUT_MILLISECONDS = 15 * 60_000;

export interface BuildReleaseOptions {
  repositoryRoot: string;
  /** The commit (or ref) whose files the release holds. */
  commit: string;
  version: string;
  /** `.loki/releases/`: the release goes to `<releasesDirectory>/<version>/`. */
  releasesDirectory: string;
  buildCommand: string | null;
  runner: CommandRunner;
  /** The build command's whole environment (see buildSandboxEnvironment). */
  env: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

export interface BuiltRelease {
  commit: string;
  directory: string;
}

/**
 * A release's files: the tree of one commit exported by `git archive` (tracked files only, no
 * .git, nothing an agent left untracked), then its build command run in the sandbox with only the
 * release directory writable. A failed build removes the directory and throws.
 */
export async function buildRelease(options: BuildReleaseOptions): Promise<BuiltRelease> {
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  const commit = (
    await runGit(
      options.repositoryRoot,
      ['rev-parse', '--verify', `${options.commit}^{commit}`],
      signalOption,
    )
  ).stdout.trim();
  const directory = join(options.releasesDirectory, options.version);
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const archive = `${directory}.tar`;
  try {
    await runGit(
      options.repositoryRoot,
      ['archive', '--format=tar', `--output=${archive}`, commit],
      signalOption,
    );
    await execFileAsync('tar', ['-xf', archive, '-C', directory], signalOption);
  } finally {
    rmSync(archive, { force: true });
  }
  if (options.buildCommand !== null) {
    const result = await options.runner.run({
      command: options.buildCommand,
      cwd: directory,
      writableDirectory: directory,
      timeoutMilliseconds: BUILD_TIMEOUT_MILLISECONDS,
      env: options.env,
      allowNetwork: true,
      maxOutputBytes: 256 * 1024,
      ...signalOption,
    });
    if (result.exitCode !== 0 || result.timedOut) {
      rmSync(directory, { recursive: true, force: true });
      const output = `${result.stdout}\n${result.stderr}`.trim().slice(-2000);
      throw new LokiError(
        `The build command of ${options.version} (\`${options.buildCommand}\`) ${result.timedOut ? 'timed out' : `exited ${String(result.exitCode)}`}; fix it in the architecture's deployment.buildCommand:\n${output}`,
        { code: 'DEPLOY_BUILD_FAILED', category: 'user', context: { version: options.version } },
      );
    }
  }
  return { commit, directory };
}
