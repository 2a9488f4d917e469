import { spawn } from 'node:child_process';
import { isLokiError, LokiError } from '../errors/index.ts';
import {
  findLinkedWorktree,
  gitLocationArguments,
  learnCommonDirectory,
  markCommonDirectoryAsked,
  needsCommonDirectoryLookup,
  noteRepositoryRoot,
  SAFE_GIT_CONFIGURATION,
  withoutRedirectingVariables,
} from './git-location.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunGitOptions {
  signal?: AbortSignal;
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs git with arguments (never through a shell), stdin closed, in its own process group so an
 * abort kills git and anything it started.
 *
 * Git safety (see git-location.ts): hooks and fsmonitor are off for every command; in a worktree
 * Loki made, git gets the worktree's registered git directory explicitly and never reads the
 * worktree's own `.git`, which an agent may have replaced.
 */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: RunGitOptions = {},
): Promise<GitResult> {
  if (findLinkedWorktree(cwd) === undefined) await rememberRepository(cwd);
  let location: string[];
  try {
    location = gitLocationArguments(cwd);
  } catch (error) {
    // A caller that asks whether something is a worktree gets "no" like git would say it.
    if (options.allowFailure === true && isLokiError(error) && error.code === 'GIT_WORKTREE_UNREGISTERED') {
      return { stdout: '', stderr: error.message, exitCode: 128 };
    }
    throw error;
  }
  return spawnGit(cwd, [...location, ...SAFE_GIT_CONFIGURATION, ...args], args, options);
}

/**
 * Makes `root` a repository whose worktrees Loki can find (see git-location.ts); asks git once when
 * its git directory is not a plain `.git` folder.
 */
export async function rememberRepository(root: string): Promise<void> {
  noteRepositoryRoot(root);
  if (!needsCommonDirectoryLookup(root)) return;
  markCommonDirectoryAsked(root);
  const result = await spawnGit(root, [...SAFE_GIT_CONFIGURATION, 'rev-parse', '--git-common-dir'], [], {
    allowFailure: true,
  });
  if (result.exitCode === 0 && result.stdout.trim() !== '') learnCommonDirectory(root, result.stdout.trim());
}

function spawnGit(
  cwd: string,
  fullArguments: readonly string[],
  args: readonly string[],
  options: RunGitOptions,
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', fullArguments, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...withoutRedirectingVariables(process.env), ...options.env, GIT_TERMINAL_PROMPT: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const abort = () => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch (error) {
          // ESRCH: the group already exited between the abort and the kill.
          if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
        }
      }
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', abort);
      reject(
        'code' in error && error.code === 'ENOENT'
          ? new LokiError('git is not installed or not on PATH; install it and retry', {
              code: 'GIT_MISSING',
              category: 'user',
            })
          : error,
      );
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', abort);
      const exitCode = code ?? -1;
      if (options.signal?.aborted) {
        reject(options.signal.reason);
        return;
      }
      if (exitCode !== 0 && options.allowFailure !== true) {
        reject(
          new LokiError(`git ${args.join(' ')} failed (exit ${exitCode}) in ${cwd}: ${stderr.trim()}`, {
            code: 'GIT_FAILED',
            category: 'internal',
            context: { args, exitCode, stderr },
          }),
        );
        return;
      }
      resolve({ stdout, stderr, exitCode });
    });
  });
}
