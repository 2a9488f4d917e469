import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LokiError } from '../errors/index.ts';
import { readWorktreeHead } from './read-loose.ts';
import { runGit } from './run-git.ts';

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
  let isNewBranch = false;
  const addArguments = async () => {
    const branchExists =
      (
        await runGit(repositoryRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {
          allowFailure: true,
          ...signalOption,
        })
      ).exitCode === 0;
    isNewBranch = !branchExists;
    return branchExists
      ? ['worktree', 'add', '--quiet', path, branch]
      : ['worktree', 'add', '--quiet', '-b', branch, path, options.baseRef ?? 'HEAD'];
  };
  const isNew = !existsSync(path);
  // The branch lookup only reads refs, so it runs beside the first-commit check.
  const [, firstAddArguments] = await Promise.all([
    ensureInitialCommit(repositoryRoot, options.signal),
    isNew ? addArguments() : null,
  ]);
  if (firstAddArguments !== null) {
    // A stale registration (a worktree directory deleted by a crash or by hand) makes `worktree add`
    // refuse the path or the branch. Pruning costs a git process, so it runs only when the add fails,
    // and the add is tried once more (the branch is looked up again: the first try may have made it).
    const added = await runGit(repositoryRoot, firstAddArguments, { allowFailure: true, ...signalOption });
    if (added.exitCode !== 0) {
      await runGit(repositoryRoot, ['worktree', 'prune'], signalOption);
      await runGit(repositoryRoot, await addArguments(), signalOption);
    }
  }
  const baseCommit = (await runGit(path, ['rev-parse', 'HEAD'], signalOption)).stdout.trim();
  return { repositoryRoot, path, branch, baseCommit, isNewBranch };
}

/**
 * The worktree of a task that has no branch yet, on a new branch `loki/<task-id>` at `baseCommit`
 * (a commit the caller already resolved): one git process instead of four. A stale registration of
 * the path is pruned and the add tried once more; a branch that already exists is an error (the
 * caller uses createTaskWorktree when it cannot know).
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
  const args = ['worktree', 'add', '--quiet', '-b', branch, path, baseCommit];
  const added = await runGit(repositoryRoot, args, { allowFailure: true, ...signalOption });
  if (added.exitCode !== 0) {
    await runGit(repositoryRoot, ['worktree', 'prune'], signalOption);
    await runGit(repositoryRoot, args, signalOption);
  }
  return { repositoryRoot, path, branch, baseCommit };
}

/** Commits everything in the worktree as a checkpoint; returns the new commit, or null if nothing changed. */
export async function commitCheckpoint(
  worktree: TaskWorktree,
  message: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const signalOption = signal === undefined ? {} : { signal };
  await runGit(worktree.path, ['add', '--all'], signalOption);
  const commit = await runGit(worktree.path, ['commit', '--quiet', '--no-verify', '-m', message], {
    env: LOKI_GIT_IDENTITY,
    allowFailure: true,
    ...signalOption,
  });
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
  const signalOption = signal === undefined ? {} : { signal };
  const removed = await runGit(worktree.repositoryRoot, ['worktree', 'remove', '--force', worktree.path], {
    allowFailure: true,
    ...signalOption,
  });
  // A successful remove leaves no registration behind; prune only clears one whose directory is already gone.
  if (removed.exitCode !== 0) await runGit(worktree.repositoryRoot, ['worktree', 'prune'], signalOption);
}
