import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitCheckpoint, createTaskWorktree, removeTaskWorktree } from '../git/index.ts';
import { gitOutput as git } from '../../test/support/git.ts';
import {
  craftLeftoverWorktree,
  craftStaleBranchLock,
  LEFTOVER_WORKTREE_STATES,
} from '../../test/support/leftover-worktrees.ts';
import { killProcessesInside } from '../../test/support/processes-inside.ts';
import { strandSandbox } from '../../test/support/stranded-sandbox.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { readProcessIdentity } from '../sandbox/process-tree.ts';
import { removeLeftoverWorktrees } from './recover-workspace.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const SKIP_NOTE =
  bubblewrapPath === undefined ? ' (SKIPPED: bwrap is not on PATH — apt-get install bubblewrap)' : '';

describe('removeLeftoverWorktrees', () => {
  let repository: string;
  let worktreesDirectory: string;
  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), 'loki-recover-'));
    worktreesDirectory = join(repository, '.loki', 'worktrees');
    git(repository, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repository, 'a.txt'), 'a\n');
    git(repository, 'add', 'a.txt');
    git(repository, 'commit', '--quiet', '-m', 'first');
  });
  afterEach(() => {
    killProcessesInside(repository);
    rmSync(repository, { recursive: true, force: true });
  });

  const registeredWorktrees = () =>
    git(repository, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((line) => line.startsWith('worktree '))
      .map((line) => line.slice('worktree '.length));
  const adminEntries = () => {
    const directory = join(repository, '.git', 'worktrees');
    return existsSync(directory) ? readdirSync(directory) : [];
  };

  it.each(LEFTOVER_WORKTREE_STATES)(
    'clears a worktree a killed git left %s, and the task gets a working worktree again',
    async (state) => {
      craftLeftoverWorktree(repository, worktreesDirectory, 'task-1', state);

      await removeLeftoverWorktrees(repository, worktreesDirectory);

      expect(registeredWorktrees()).toEqual([repository]);
      expect(adminEntries()).toEqual([]);
      expect(existsSync(join(worktreesDirectory, 'task-1'))).toBe(false);
      // The branch and what it holds stay: the checkpoints are the task's work.
      expect(git(repository, 'branch', '--list', 'loki/task-1')).toContain('loki/task-1');
      const worktree = await createTaskWorktree({
        repositoryRoot: repository,
        worktreesDirectory,
        taskId: 'task-1',
      });
      writeFileSync(join(worktree.path, 'b.txt'), 'b\n');
      expect(await commitCheckpoint(worktree, '[Loki] eng-backend-task-1: add b')).toMatch(/^[0-9a-f]{40}$/);
      await removeTaskWorktree(worktree);
      expect(registeredWorktrees()).toEqual([repository]);
    },
  );

  it('clears every leftover at once, the locks of Loki branches with them, and keeps worktrees of others', async () => {
    const elsewhere = `${repository}-mine`;
    git(repository, 'worktree', 'add', '--quiet', '-b', 'mine', elsewhere);
    LEFTOVER_WORKTREE_STATES.forEach((state, index) =>
      craftLeftoverWorktree(repository, worktreesDirectory, `task-${index}`, state),
    );
    craftStaleBranchLock(repository, 'loki/task-0');
    try {
      await removeLeftoverWorktrees(repository, worktreesDirectory);

      expect(registeredWorktrees()).toEqual([repository, elsewhere]);
      expect(existsSync(join(repository, '.git', 'refs', 'heads', 'loki', 'task-0.lock'))).toBe(false);
      expect(existsSync(worktreesDirectory) ? readdirSync(worktreesDirectory) : []).toEqual([]);
      // A checkpoint on the branch whose lock a killed commit left behind works again.
      const worktree = await createTaskWorktree({
        repositoryRoot: repository,
        worktreesDirectory,
        taskId: 'task-0',
      });
      writeFileSync(join(worktree.path, 'c.txt'), 'c\n');
      expect(await commitCheckpoint(worktree, '[Loki] eng-backend-task-0: add c')).toMatch(/^[0-9a-f]{40}$/);
      await removeTaskWorktree(worktree);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it.skipIf(bubblewrapPath === undefined)(
    `ends the sandbox a killed run left stuck in a worktree's setup, then removes the worktree${SKIP_NOTE}`,
    async () => {
      const worktree = await createTaskWorktree({
        repositoryRoot: repository,
        worktreesDirectory,
        taskId: 'feature-6',
      });
      const scratch = join(repository, '.loki', 'scratch');
      mkdirSync(scratch);
      const init = await strandSandbox({
        bubblewrapPath: bubblewrapPath ?? 'bwrap',
        worktree: worktree.path,
        scratch,
      });
      expect(await readProcessIdentity(init.pid), 'the stranded sandbox').not.toBeNull();

      const ended = await removeLeftoverWorktrees(repository, worktreesDirectory);

      expect(await readProcessIdentity(init.pid), 'the stranded sandbox').toBeNull();
      expect(ended).toBe(1);
      expect(registeredWorktrees()).toEqual([repository]);
      expect(existsSync(worktree.path)).toBe(false);
    },
  );
});
