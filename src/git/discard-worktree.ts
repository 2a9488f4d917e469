import { readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { errorCode } from '../errors/index.ts';
import { findLinkedWorktree } from './git-location.ts';
import { plainGitDirectory } from './read-loose.ts';
import { runGit } from './run-git.ts';

/**
 * Clearing a worktree that an interrupted git left half-made or half-removed.
 *
 * `git worktree add` locks the admin directory it makes (`.git/worktrees/<name>/locked`,
 * "initializing") and unlocks it only when the checkout is done, so that a prune running meanwhile
 * leaves it alone. A kill in between (kill -9, or Loki's own abort killing git) leaves that lock
 * forever, and with it states git's own commands refuse or trip over: "missing but locked" (add and
 * remove refuse it), an admin directory without `gitdir` (prune keeps it because it is locked), an
 * empty `commondir` (every `git worktree list` and `add` in the repository then fails), a held
 * `index.lock`. So these functions read and remove git's files themselves, exactly what
 * `git worktree prune` does to an entry it prunes, without asking git to list the worktrees first.
 */

/** One entry of `<common git dir>/worktrees/`, read from disk. */
export interface WorktreeAdminEntry {
  name: string;
  adminDirectory: string;
  /** The worktree directory named by its `gitdir` file; null when the add that made it died before writing it. */
  worktreePath: string | null;
}

/** The repository's common git directory (where `worktrees/` and `refs/` live), absolute and real. */
export async function gitCommonDirectory(repositoryRoot: string, signal?: AbortSignal): Promise<string> {
  const plain = plainGitDirectory(repositoryRoot);
  if (plain !== undefined) return realpathSync(plain);
  const result = await runGit(repositoryRoot, ['rev-parse', '--git-common-dir'], {
    ...(signal === undefined ? {} : { signal }),
  });
  return realpathSync(resolve(repositoryRoot, result.stdout.trim()));
}

/** Every linked worktree's admin entry, whatever state it is in (git's own listing fails on some). */
export function readWorktreeAdminEntries(commonDirectory: string): WorktreeAdminEntry[] {
  const worktreesDirectory = join(commonDirectory, 'worktrees');
  let names: string[];
  try {
    names = readdirSync(worktreesDirectory);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return names.map((name) => {
    const adminDirectory = join(worktreesDirectory, name);
    const gitFile = readTextIfPresent(join(adminDirectory, 'gitdir'))?.trim();
    // `gitdir` names the worktree's `.git` file; git may write it relative to the admin directory.
    const worktreePath =
      gitFile === undefined || gitFile === '' ? null : dirname(resolve(adminDirectory, gitFile));
    return { name, adminDirectory, worktreePath };
  });
}

/**
 * Removes the worktree at `path` and its admin entry, whatever state git left them in (locked,
 * missing, half-made, without admin entry, with a stale index.lock); the branch stays. The caller
 * guarantees that nothing uses that worktree any more (it is the caller's own task's, or the run
 * holds the workspace's run lock).
 */
export async function discardWorktree(
  repositoryRoot: string,
  path: string,
  signal?: AbortSignal,
): Promise<void> {
  const commonDirectory = await gitCommonDirectory(repositoryRoot, signal);
  const spellings = new Set([resolve(path), join(realPathOfParent(path), basename(path))]);
  const adminDirectories = new Set<string>();
  // Found from the repository's side only: the worktree's own `.git` is the agent's to write, and
  // could name another task's admin entry.
  for (const entry of readWorktreeAdminEntries(commonDirectory)) {
    const isThisPath =
      entry.worktreePath === null
        ? // An add killed before it wrote `gitdir` leaves only the name it took from the path.
          entry.name === basename(path)
        : spellings.has(entry.worktreePath);
    if (isThisPath) adminDirectories.add(entry.adminDirectory);
  }
  rmSync(path, { recursive: true, force: true });
  for (const adminDirectory of adminDirectories) rmSync(adminDirectory, { recursive: true, force: true });
}

/**
 * Whether `path` is a worktree git can work in: the repository registered it (an admin entry whose
 * `gitdir` names it, read from the repository's side, never from the worktree's own `.git`) and that
 * entry is complete and unlocked.
 */
export function isCompleteWorktree(path: string): boolean {
  const adminDirectory = findLinkedWorktree(path)?.adminDirectory;
  if (adminDirectory === undefined) return false;
  const isFilled = (name: string) => (readTextIfPresent(join(adminDirectory, name))?.trim() ?? '') !== '';
  // A lock on a Loki worktree can only be the "initializing" of an add that never finished.
  return (
    isFilled('gitdir') &&
    isFilled('commondir') &&
    isFilled('HEAD') &&
    readTextIfPresent(join(adminDirectory, 'locked')) === undefined
  );
}

function realPathOfParent(path: string): string {
  try {
    return realpathSync(dirname(path));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return resolve(dirname(path));
    throw error;
  }
}

function readTextIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
}
