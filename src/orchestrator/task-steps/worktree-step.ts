import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  addNewTaskWorktree,
  createTaskWorktree,
  plainGitDirectory,
  readLooseRef,
  rollbackWorktree,
  runGit,
  taskBranchName,
  type TaskWorktree,
} from '../../git/index.ts';
import type { TaskWorkerContext } from '../task-worker.ts';
import type { TaskAttempt } from './task-attempt.ts';

/**
 * Worktree: the task's own worktree on branch `loki/<task-id>`. A task claimed for the first time
 * has no branch yet: with Loki's own tool loop its worktree is created while the model thinks about
 * the first step (the tools wait for it), from the main commit read now, and the prompt lists
 * main's files instead of reading the worktree. Whatever a killed run left half-done in an existing
 * worktree goes: it returns to the branch's last checkpoint.
 */
export async function openWorktree(attempt: TaskAttempt): Promise<null> {
  const { claim } = attempt;
  const { task, context } = claim;
  const worktreesDirectory = join(context.workspace.paths.lokiDirectory, 'worktrees');
  // createTaskWorktree puts the worktree at <worktreesDirectory>/<task-id>; one that is not there
  // yet is checked out fresh from its branch, with nothing half-done in it.
  const isNewWorktree = !existsSync(join(worktreesDirectory, task.id));
  const isFresh =
    task.attemptCount === 1 &&
    attempt.payload.resolves === undefined &&
    isNewWorktree &&
    context.source.runtime !== 'claude-code' &&
    context.source.runtime !== 'codex';
  const created = isFresh
    ? await startFreshWorktree(attempt, worktreesDirectory)
    : await createTaskWorktree({
        repositoryRoot: context.workspace.paths.root,
        worktreesDirectory,
        taskId: task.id,
        baseRef: context.mainBranch,
        signal: context.signal,
      });
  claim.worktree = created;
  attempt.isNewBranch = created.isNewBranch;
  if (!isNewWorktree) await rollbackWorktree(created, 'HEAD', context.signal);
  return null;
}

/** A new branch from today's main, its worktree added once the agent is on its way. */
async function startFreshWorktree(
  attempt: TaskAttempt,
  worktreesDirectory: string,
): Promise<TaskWorktree & { isNewBranch: boolean }> {
  const { claim } = attempt;
  const { task, context } = claim;
  const root = context.workspace.paths.root;
  const mainAtStart = context.mergeQueue.mainTip ?? (await mainCommit(context));
  // Started once the agent is on its way (Node starts a process synchronously: the model call goes first).
  const ready = new Promise((resolve) => setImmediate(resolve)).then(() =>
    addNewTaskWorktree({
      repositoryRoot: root,
      worktreesDirectory,
      taskId: task.id,
      baseCommit: mainAtStart,
      signal: context.signal,
    }),
  );
  // Awaited later; until then a failure must not count as unhandled.
  ready.catch(() => undefined);
  claim.pendingWorktree = { ready, files: await filesOfCommit(root, mainAtStart) };
  return {
    repositoryRoot: root,
    path: join(worktreesDirectory, task.id),
    branch: taskBranchName(task.id),
    baseCommit: mainAtStart,
    isNewBranch: true,
  };
}

export async function mainCommit(context: TaskWorkerContext): Promise<string> {
  const root = context.workspace.paths.root;
  const gitDirectory = plainGitDirectory(root);
  const loose =
    gitDirectory === undefined ? undefined : readLooseRef(gitDirectory, `refs/heads/${context.mainBranch}`);
  if (loose !== undefined) return loose;
  const result = await runGit(root, ['rev-parse', `refs/heads/${context.mainBranch}`]);
  return result.stdout.trim();
}

/** The files of the last commit asked for, kept: the tasks that start together share one main. */
let listedCommit: { commit: string; files: Promise<string[]> } | null = null;

export function filesOfCommit(repositoryRoot: string, commit: string): Promise<string[]> {
  if (listedCommit?.commit !== commit) {
    const files = runGit(repositoryRoot, ['ls-tree', '-r', '--name-only', commit]).then((result) =>
      result.stdout.split('\n').filter((line) => line.length > 0),
    );
    listedCommit = { commit, files };
    files.catch(() => {
      if (listedCommit?.files === files) listedCommit = null;
    });
  }
  return listedCommit.files;
}
