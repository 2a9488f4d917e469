import { execFileSync } from 'node:child_process';
import { LokiError } from '../errors/index.ts';
import { SAFE_GIT_CONFIGURATION } from '../git/index.ts';

/** True when `directory` is inside a git work tree. */
export function isInsideGitWorkTree(directory: string): boolean {
  try {
    const output = execFileSync('git', [...SAFE_GIT_CONFIGURATION, 'rev-parse', '--is-inside-work-tree'], {
      cwd: directory,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    return output.trim() === 'true';
  } catch (error) {
    if (isCommandMissing(error)) throw gitMissing();
    // git exits non-zero outside a repository: that is the answer, not a failure.
    return false;
  }
}

export function initGitRepository(directory: string): void {
  try {
    execFileSync('git', [...SAFE_GIT_CONFIGURATION, 'init', '--quiet', '--initial-branch=main'], {
      cwd: directory,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    if (isCommandMissing(error)) throw gitMissing();
    const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
    throw new LokiError(`git init failed in ${directory}: ${stderr}`, {
      code: 'GIT_INIT_FAILED',
      category: 'internal',
    });
  }
}

function isCommandMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

function gitMissing(): LokiError {
  return new LokiError(
    'git is not installed or not on PATH; install it (e.g. apt-get install git) and retry',
    {
      code: 'GIT_MISSING',
      category: 'user',
    },
  );
}
