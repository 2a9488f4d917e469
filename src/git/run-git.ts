import { spawn } from 'node:child_process';
import { LokiError } from '../errors/index.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs git with arguments (never through a shell), stdin closed, in its own process group so an
 * abort kills git and anything it started (hooks, credential helpers).
 */
export function runGit(
  cwd: string,
  args: readonly string[],
  options: { signal?: AbortSignal; allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: '0' },
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
