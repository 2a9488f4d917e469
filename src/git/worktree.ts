import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errorCode, isLokiError, LokiError } from '../errors/index.ts';
import { discardWorktree, isCompleteWorktree } from './discard-worktree.ts';
import { assertWorktreeIntact } from './git-location.ts';
import { readWorktreeHead } from './read-loose.ts';
import { rememberRepository, runGit } from './run-git.ts';

/** Identity for commits made by the harness, so checkpoints work on machines with no git identity. */
export const LOKI_GIT_IDENTITY: NodeJS.ProcessEnv = {
  GIT_AUTHOR_NAME: 'Loki Mode',
  GIT_AUTHOR_EMAIL: 'loki-mode@localhost',
  GIT_COMMITTER_NAME: 'Loki Mode',
  GIT_COMMITTER_EMAIL: 'loki-mode@localhost',
};

export interface TaskWorktree {
  repositoryRoot: string;
  path: string;
  branch: string;
  /** The commit the worktree started from: rollback returns here. */
  baseCommit: string;
}

/** `[Loki] <agent-type>-<task-id>: <title>`, on one line whatever the title contains. */
export function checkpointMessage(checkpoint: { agentType: string; taskId: string; title: string }): string {
  const title = checkpoint.title.replace(/\s+/g, ' ').trim();
  return `[Loki] ${checkpoint.agentType}-${checkpoint.taskId}: ${title}`;
}

export function taskBranchName(taskId: string): string {
  return `loki/${taskId}`;
}

/** Makes sure the repository has a first commit: a worktree needs something to branch from. */
export async function ensureInitialCommit(repositoryRoot: string, signal?: AbortSignal): Promise<string> {
  const head = await runGit(repositoryRoot, ['rev-parse', '--verify', '--quiet', 'HEAD'], {
    allowFailure: true,
    ...(signal === undefined ? {} : { signal }),
  });
  if (head.exitCode === 0) return head.stdout.trim();
  await runGit(repositoryRoot, ['commit', '--allow-empty', '--no-verify', '-m', '[Loki] initial commit'], {
    env: LOKI_GIT_IDENTITY,
    ...(signal === undefined ? {} : { signal }),
  });
  return (await runGit(repositoryRoot, ['rev-parse', 'HEAD'])).stdout.trim();
}

/**
 * Creates (or, after a crash, re-creates) the worktree of a task under `.loki/worktrees/<task-id>`
 * on branch `loki/<task-id>` from `baseRef`. An existing branch is reused so that a resumed task
 * keeps its checkpoints.
 */
export async function createTaskWorktree(options: {
  repositoryRoot: string;
  worktreesDirectory: string;
  taskId: string;
  baseRef?: string;
  signal?: AbortSignal;
}): Promise<TaskWorktree & { isNewBranch: boolean }> {
  const { repositoryRoot, taskId } = options;
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  mkdirSync(options.worktreesDirectory, { recursive: true });
  const path = join(options.worktreesDirectory, taskId);
  const branch = taskBranchName(taskId);
  // Only a worktree git can work in, and as git made it, is reused: anything else at the path is
  // what a killed add or remove left, or a worktree whose .git an agent replaced.
  await rememberRepository(repositoryRoot);
  const isNew = !(isCompleteWorktree(path) && isWorktreeIntact(path));
  if (isNew && existsSync(path)) await discardWorktree(repositoryRoot, path, options.signal);
  // The first-commit check and the branch lookup only read, so they run side by side.
  const [, branchExists] = await Promise.all([
    ensureInitialCommit(repositoryRoot, options.signal),
    isNew ? hasBranch(repositoryRoot, branch, options.signal) : true,
  ]);
  const isNewBranch = !branchExists;
  if (isNew) {
    await addWorktree({
      repositoryRoot,
      path,
      branch,
      startPoint: branchExists ? null : (options.baseRef ?? 'HEAD'),
      ...signalOption,
    });
  }
  const baseCommit = (await runGit(path, ['rev-parse', 'HEAD'], signalOption)).stdout.trim();
  return { repositoryRoot, path, branch, baseCommit, isNewBranch };
}

/**
 * The worktree of a task that has no branch yet, on a new branch `loki/<task-id>` at `baseCommit`
 * (a commit the caller already resolved): one git process instead of four (see addWorktree for
 * what happens when that one fails).
 */
export async function addNewTaskWorktree(options: {
  repositoryRoot: string;
  worktreesDirectory: string;
  taskId: string;
  baseCommit: string;
  signal?: AbortSignal;
}): Promise<TaskWorktree> {
  const { repositoryRoot, baseCommit } = options;
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  mkdirSync(options.worktreesDirectory, { recursive: true });
  const path = join(options.worktreesDirectory, options.taskId);
  const branch = taskBranchName(options.taskId);
  await addWorktree({ repositoryRoot, path, branch, startPoint: baseCommit, ...signalOption });
  return { repositoryRoot, path, branch, baseCommit };
}

const WORKTREE_ADD_ATTEMPTS = 5;

/**
 * `git worktree add` of `path` on `branch`, created at `startPoint` (null: the branch exists).
 *
 * Adds that run side by side can fail for a moment: each reads every registered worktree, and one
 * still being made by another add has no `commondir` yet ("failed to read .git/worktrees/…/
 * commondir"). By then `-b` has already made the branch, so the next try checks that branch out
 * instead of making it again. Whatever an earlier add or remove of the same path left there when it
 * was killed (a directory, an admin entry, locked or not: see discardWorktree) is cleared first; the
 * path is this task's, so nothing else uses it. The last failure is thrown with git's own message.
 */
async function addWorktree(options: {
  repositoryRoot: string;
  path: string;
  branch: string;
  startPoint: string | null;
  signal?: AbortSignal;
}): Promise<void> {
  const { repositoryRoot, path, branch } = options;
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  let isBranchMade = options.startPoint === null;
  for (let attempt = 1; ; attempt += 1) {
    const args =
      isBranchMade || options.startPoint === null
        ? ['worktree', 'add', '--quiet', path, branch]
        : ['worktree', 'add', '--quiet', '-b', branch, path, options.startPoint];
    const added = await runGit(repositoryRoot, args, { allowFailure: true, ...signalOption });
    if (added.exitCode === 0) return;
    if (attempt >= WORKTREE_ADD_ATTEMPTS) {
      throw new LokiError(`git ${args.join(' ')} failed (exit ${added.exitCode}): ${added.stderr.trim()}`, {
        code: 'GIT_FAILED',
        category: 'internal',
        context: { args, exitCode: added.exitCode, attempts: attempt },
      });
    }
    // Whatever this failed add or an earlier one left at the path ("missing but locked", "already exists"…).
    await discardWorktree(repositoryRoot, path, options.signal);
    isBranchMade ||= await hasBranch(repositoryRoot, branch, options.signal);
    // A little apart, so that adds that collided do not collide again.
    await delay(5 + Math.floor(Math.random() * 20 * attempt), undefined, signalOption);
  }
}

async function hasBranch(repositoryRoot: string, branch: string, signal?: AbortSignal): Promise<boolean> {
  const result = await runGit(repositoryRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {
    allowFailure: true,
    ...(signal === undefined ? {} : { signal }),
  });
  return result.exitCode === 0;
}

/**
 * A commit starts `git maintenance run --auto` after itself, one more process for every checkpoint of
 * every task; a run makes its checkpoints without it and runs it once when it is done (see
 * runAutoMaintenance).
 */
export const WITHOUT_AUTO_MAINTENANCE = ['-c', 'maintenance.auto=false'] as const;

/** The repository housekeeping git would have done after the commits a run made (packing loose objects). */
export async function runAutoMaintenance(repositoryRoot: string): Promise<void> {
  await runGit(repositoryRoot, ['maintenance', 'run', '--auto', '--quiet'], { allowFailure: true });
}

/** Commits everything in the worktree as a checkpoint; returns the new commit, or null if nothing changed. */
export async function commitCheckpoint(
  worktree: TaskWorktree,
  message: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const signalOption = signal === undefined ? {} : { signal };
  // Nothing an agent did to the worktree's .git is ever committed, let alone merged.
  assertWorktreeIntact(worktree.path);
  await runGit(worktree.path, ['add', '--all'], signalOption);
  const commit = await runGit(
    worktree.path,
    [...WITHOUT_AUTO_MAINTENANCE, 'commit', '--quiet', '--no-verify', '-m', message],
    {
      env: LOKI_GIT_IDENTITY,
      allowFailure: true,
      ...signalOption,
    },
  );
  if (commit.exitCode !== 0) {
    // Usually "nothing to commit"; only staged changes that would not commit are an error.
    const staged = await runGit(worktree.path, ['diff', '--cached', '--quiet'], {
      allowFailure: true,
      ...signalOption,
    });
    if (staged.exitCode === 0) return null;
    throw new LokiError(
      `git commit of the checkpoint failed in ${worktree.path}: ${commit.stderr.trim() || commit.stdout.trim()}`,
      {
        code: 'GIT_FAILED',
        category: 'internal',
        context: { exitCode: commit.exitCode },
      },
    );
  }
  return (
    readWorktreeHead(worktree.path) ??
    (await runGit(worktree.path, ['rev-parse', 'HEAD'], signalOption)).stdout.trim()
  );
}

/** Throws away every change since `commit` (tracked and untracked files). */
export async function rollbackWorktree(
  worktree: TaskWorktree,
  commit: string,
  signal?: AbortSignal,
): Promise<void> {
  const signalOption = signal === undefined ? {} : { signal };
  await runGit(worktree.path, ['reset', '--hard', '--quiet', commit], signalOption);
  await runGit(worktree.path, ['clean', '-fdq'], signalOption);
}

/** Removes the worktree directory; the branch (and its checkpoints) stays. */
export async function removeTaskWorktree(worktree: TaskWorktree, signal?: AbortSignal): Promise<void> {
  await removeWorktreeDirectory(worktree.repositoryRoot, worktree.path, signal);
}

/**
 * `git worktree remove --force`; when git refuses (its `.git` was replaced, so git no longer
 * recognises it) the directory is deleted and the registration pruned, so that nothing an agent
 * left there survives into the next claim.
 */
async function removeWorktreeDirectory(
  repositoryRoot: string,
  path: string,
  signal?: AbortSignal,
): Promise<void> {
  const signalOption = signal === undefined ? {} : { signal };
  const removed = await runGit(repositoryRoot, ['worktree', 'remove', '--force', path], {
    allowFailure: true,
    ...signalOption,
  });
  if (removed.exitCode === 0) return;
  // git refuses a worktree an interrupted add left locked or half-made, or one whose .git an agent
  // replaced: its folder and admin entry are removed by hand.
  try {
    await discardWorktree(repositoryRoot, path, signal);
  } catch (error) {
    // A folder that cannot be deleted now (a read-only or full disk: the run is stopping with that
    // fault) is deleted by the next run's recovery; a claim never reuses it as it is (see
    // createTaskWorktree). Anything else is Loki's own failure.
    if (!DISK_ERRORS.has(errorCode(error) ?? '') && !isEmptyCodeFileSystemError(error)) throw error;
  }
}

/** What a failing disk throws when a folder is deleted. */
const DISK_ERRORS: ReadonlySet<string> = new Set(['EROFS', 'ENOSPC', 'EACCES', 'EPERM', 'EIO', 'EBUSY']);

/** Node 24's rmSync reports some failures (EROFS among them) with an empty code and the text only. */
function isEmptyCodeFileSystemError(error: unknown): boolean {
  return error instanceof Error && /read-only file system|no space left/i.test(error.message);
}

function isWorktreeIntact(path: string): boolean {
  try {
    assertWorktreeIntact(path);
    return true;
  } catch (error) {
    if (isLokiError(error) && error.code === 'GIT_WORKTREE_TAMPERED') return false;
    throw error;
  }
}
