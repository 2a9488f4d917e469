/**
 * What a run finds in a workspace an earlier process left behind (killed, stopped), and puts right.
 */
import { rmSync } from 'node:fs';
import { LokiError } from '../errors/index.ts';
import { runGit } from '../git/index.ts';
import type { Workspace } from '../workspace/index.ts';

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

/** Worktrees of a previous process (killed or stopped) are removed; their branches keep the checkpoints. */
export async function removeLeftoverWorktrees(root: string, worktreesDirectory: string): Promise<void> {
  await runGit(root, ['worktree', 'prune'], { allowFailure: true });
  const listing = await runGit(root, ['worktree', 'list', '--porcelain'], { allowFailure: true });
  for (const line of listing.stdout.split('\n')) {
    if (!line.startsWith('worktree ')) continue;
    const path = line.slice('worktree '.length);
    if (path.startsWith(`${worktreesDirectory}/`)) {
      await runGit(root, ['worktree', 'remove', '--force', path], { allowFailure: true });
    }
  }
  rmSync(worktreesDirectory, { recursive: true, force: true });
  await runGit(root, ['worktree', 'prune'], { allowFailure: true });
}

/**
 * Tasks this run's earlier process held when it died go straight back to the queue: this process
 * holds the run lock, so their workers are gone for sure (waiting for the lease to expire would
 * only waste time), and an interruption is not the task's failure.
 */
export async function releaseTasksOfDeadWorkers(workspace: Workspace, runId: string): Promise<number> {
  const ownPrefix = `run:${runId}:${process.pid}:`;
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
