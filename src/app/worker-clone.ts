import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasRemote } from '../distributed/index.ts';
import { usageError } from '../errors/index.ts';
import { runGit, SAFE_GIT_CONFIGURATION } from '../git/index.ts';

const run = promisify(execFile);
import { isInsideGitWorkTree, WORKSPACE_DIRECTORIES, workspacePaths } from '../workspace/index.ts';

/**
 * A `loki worker`'s own clone of the run's remote at `directory`: cloned when absent (or empty),
 * reused when it is already a clone of that remote, refused otherwise. Its HEAD is detached, so
 * local main can follow the remote's without a checkout in the way, and it gets its own `.loki/`
 * (logs, worktrees; the store is the run's).
 */
export async function prepareWorkerClone(directory: string, remoteUrl: string): Promise<void> {
  const isEmpty = !existsSync(directory) || readdirSync(directory).length === 0;
  if (isEmpty) {
    mkdirSync(directory, { recursive: true });
    // Not through runGit: it remembers what it learns of a repository, and there is none here yet.
    await run('git', [...SAFE_GIT_CONFIGURATION, 'clone', '--quiet', '--', remoteUrl, directory], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    }).catch((error: unknown) => {
      const stderr =
        error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
      throw usageError(
        'WORKER_CLONE_FAILED',
        `git clone ${remoteUrl} into ${directory} failed: ${stderr}; check the URL and this machine's git credentials`,
      );
    });
  } else if (!isInsideGitWorkTree(directory) || !(await hasRemote(directory, remoteUrl))) {
    throw usageError(
      'WORKER_DIRECTORY_NOT_A_CLONE',
      `${directory} is not a clone of ${remoteUrl}; give loki worker --dir a new directory (it clones the remote there) or a clone of that remote`,
    );
  }
  const detached = await runGit(directory, ['checkout', '--quiet', '--detach'], { allowFailure: true });
  if (detached.exitCode !== 0 && !/does not have any commits/.test(detached.stderr)) {
    throw usageError('WORKER_CLONE_FAILED', `cannot detach HEAD in ${directory}: ${detached.stderr.trim()}`);
  }
  const lokiDirectory = workspacePaths(directory).lokiDirectory;
  for (const folder of [...WORKSPACE_DIRECTORIES, 'worktrees']) {
    mkdirSync(join(lokiDirectory, folder), { recursive: true });
  }
}
