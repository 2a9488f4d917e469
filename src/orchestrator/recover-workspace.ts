/**
 * What a run finds in a workspace an earlier process left behind (killed, stopped), and puts right.
 */
import { type Dirent, readdirSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { errorCode, LokiError } from '../errors/index.ts';
import { gitCommonDirectory, readWorktreeAdminEntries, runGit } from '../git/index.ts';
import { terminateLeftoverProcesses } from '../sandbox/index.ts';
import type { Workspace } from '../workspace/index.ts';
import { runWorkerId } from './worker-presence.ts';

export async function currentBranch(root: string): Promise<string> {
  const result = await runGit(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true });
  const branch = result.stdout.trim();
  if (result.exitCode !== 0 || branch === '') {
    throw new LokiError(
      'the workspace repository has a detached HEAD; check out the branch Loki should merge into (e.g. git switch main) and run again',
      { code: 'RUN_DETACHED_HEAD', category: 'user' },
    );
  }
  return branch;
}

/**
 * A run killed between moving main and updating the checked-out files leaves the checkout's index
 * and files at an older main. When the index is exactly an earlier commit of main (so nothing of
 * the user's is staged), a two-tree read-tree brings index and files forward, keeping unrelated
 * local edits and refusing to overwrite conflicting ones. Returns whether it moved anything.
 */
export async function bringStaleCheckoutForward(root: string, mainBranch: string): Promise<boolean> {
  const head = await runGit(root, ['symbolic-ref', '--quiet', 'HEAD'], { allowFailure: true });
  if (head.stdout.trim() !== `refs/heads/${mainBranch}`) return false;
  const clean = await runGit(root, ['diff', '--cached', '--quiet', 'HEAD'], { allowFailure: true });
  if (clean.exitCode === 0) return false;
  const indexTree = (await runGit(root, ['write-tree'], { allowFailure: true })).stdout.trim();
  const history = await runGit(root, ['log', '--format=%T', '-n', '1000', mainBranch]);
  if (indexTree === '' || !history.stdout.split('\n').includes(indexTree)) return false;
  const readTree = await runGit(root, ['read-tree', '-m', '-u', indexTree, 'HEAD'], { allowFailure: true });
  return readTree.exitCode === 0;
}

/** How long processes a killed run left in its worktrees may take to disappear after SIGKILL. */
const LEFTOVER_KILL_DEADLINE_MILLISECONDS = 5_000;

/**
 * Every worktree under `worktreesDirectory` goes, whatever state a killed or stopped process left it
 * in (see discardWorktree: locked, missing, half-made, without admin entry, with a stale
 * index.lock), and so do the lock files of `loki/*` branches left by a commit or branch update
 * killed half-way; the branches keep the checkpoints. First, whatever a killed process left
 * running in them is ended (a sandbox bubblewrap could not tie to its dead parent, see
 * terminateLeftoverProcesses), so that nothing writes there while they go, nor lives on after.
 * Returns how many such processes it ended.
 *
 * The caller MUST hold the workspace's run lock and have no worker of its own running: then no
 * live Loki process uses any of these worktrees or branches. An admin entry without `gitdir` names
 * no worktree at all; it is what an add killed right after taking its lock leaves (git's prune keeps
 * it for that lock), so it goes too, wherever that add was headed.
 */
export async function removeLeftoverWorktrees(root: string, worktreesDirectory: string): Promise<number> {
  const insideSpellings = [resolve(worktreesDirectory), realPathAsFarAsItExists(worktreesDirectory)];
  const ended = await terminateLeftoverProcesses({
    directories: [...new Set(insideSpellings)],
    killDeadlineMilliseconds: LEFTOVER_KILL_DEADLINE_MILLISECONDS,
  });
  const commonDirectory = await gitCommonDirectory(root);
  const isInside = (path: string) => insideSpellings.some((directory) => path.startsWith(`${directory}/`));
  for (const entry of readWorktreeAdminEntries(commonDirectory)) {
    if (entry.worktreePath === null || isInside(entry.worktreePath)) {
      rmSync(entry.adminDirectory, { recursive: true, force: true });
    }
  }
  rmSync(worktreesDirectory, { recursive: true, force: true });
  removeBranchLocks(join(commonDirectory, 'refs', 'heads', 'loki'));
  // Registrations of worktrees deleted by hand elsewhere: git's ordinary housekeeping.
  await runGit(root, ['worktree', 'prune'], { allowFailure: true });
  return ended.length;
}

/** `<branch>.lock` files under `directory` (a ref update killed before it renamed its lock into place). */
function removeBranchLocks(directory: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) removeBranchLocks(path);
    else if (entry.name.endsWith('.lock')) rmSync(path, { force: true });
  }
}

/**
 * `path` with symlinks resolved as far as it exists: the worktrees directory may be gone already
 * (an earlier run removed it) while processes still name it by its real path.
 */
function realPathAsFarAsItExists(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(realPathAsFarAsItExists(parent), basename(absolute));
  }
}

/**
 * Tasks this run's earlier process held when it died go straight back to the queue: this process
 * holds the run lock, so their workers are gone for sure (waiting for the lease to expire would
 * only waste time), and an interruption is not the task's failure.
 */
export async function releaseTasksOfDeadWorkers(workspace: Workspace, runId: string): Promise<number> {
  const ownPrefix = `${runWorkerId(runId)}:`;
  const held = await workspace.queue.list({ statuses: ['in_progress'] });
  let released = 0;
  for (const task of held) {
    const holder = task.claimedBy ?? '';
    if (holder.startsWith(`run:${runId}:`) && !holder.startsWith(ownPrefix)) {
      await workspace.queue.release(task.id, null, 'the run that held it was interrupted');
      released += 1;
    }
  }
  return released;
}
