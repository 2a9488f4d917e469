import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addNewTaskWorktree,
  commitCheckpoint,
  createTaskWorktree,
  removeTaskWorktree,
  rollbackWorktree,
} from './worktree.ts';
import { gitOutput } from '../../test/support/git.ts';
import { craftLeftoverWorktree, LEFTOVER_WORKTREE_STATES } from '../../test/support/leftover-worktrees.ts';

const git = gitOutput;

describe('task worktrees', () => {
  let repository: string;
  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), 'loki-worktree-'));
    git(repository, 'init', '--quiet', '--initial-branch=main');
  });
  afterEach(() => rmSync(repository, { recursive: true, force: true }));

  it('creates a worktree on loki/<task-id>, checkpoints, rolls back and is removed without leaks', async () => {
    const worktreesDirectory = join(repository, '.loki', 'worktrees');
    const worktree = await createTaskWorktree({
      repositoryRoot: repository,
      worktreesDirectory,
      taskId: 'task-1',
    });
    expect(worktree.branch).toBe('loki/task-1');
    expect(git(worktree.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('loki/task-1');
    // An empty repository got a first commit to branch from.
    expect(git(repository, 'log', '--format=%s', 'main')).toBe('[Loki] initial commit');

    writeFileSync(join(worktree.path, 'a.txt'), 'first\n');
    const checkpoint = await commitCheckpoint(worktree, '[Loki] eng-backend-task-1: add a');
    expect(checkpoint).toMatch(/^[0-9a-f]{40}$/);
    expect(git(worktree.path, 'log', '-1', '--format=%s%n%an')).toBe(
      '[Loki] eng-backend-task-1: add a\nLoki Mode',
    );
    expect(await commitCheckpoint(worktree, 'nothing')).toBeNull();

    writeFileSync(join(worktree.path, 'a.txt'), 'broken\n');
    writeFileSync(join(worktree.path, 'junk.txt'), 'junk\n');
    await rollbackWorktree(worktree, checkpoint ?? '');
    expect(readFileSync(join(worktree.path, 'a.txt'), 'utf8')).toBe('first\n');
    expect(existsSync(join(worktree.path, 'junk.txt'))).toBe(false);

    // Re-creating after a crash reuses the branch and its checkpoint.
    rmSync(worktree.path, { recursive: true, force: true });
    const resumed = await createTaskWorktree({
      repositoryRoot: repository,
      worktreesDirectory,
      taskId: 'task-1',
    });
    expect(resumed.baseCommit).toBe(checkpoint);

    await removeTaskWorktree(resumed);
    expect(existsSync(resumed.path)).toBe(false);
    expect(git(repository, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(repository, 'branch', '--list', 'loki/task-1')).toContain('loki/task-1');
  });

  it('adds many worktrees at once without one add tripping over another half-made one', async () => {
    const worktreesDirectory = join(repository, '.loki', 'worktrees');
    writeFileSync(join(repository, 'a.txt'), 'a\n');
    git(repository, 'add', 'a.txt');
    git(repository, 'commit', '--quiet', '-m', 'first');
    const base = git(repository, 'rev-parse', 'HEAD');
    // Each add reads every registered worktree; one being made by another add has no commondir yet.
    for (let round = 0; round < 8; round += 1) {
      const taskIds = Array.from({ length: 12 }, (_, index) => `r${round}-t${index}`);
      const worktrees = await Promise.all(
        taskIds.map((taskId) =>
          addNewTaskWorktree({ repositoryRoot: repository, worktreesDirectory, taskId, baseCommit: base }),
        ),
      );
      for (const worktree of worktrees) {
        expect(git(worktree.path, 'rev-parse', 'HEAD')).toBe(base);
        expect(git(worktree.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(worktree.branch);
      }
      await Promise.all(worktrees.map((worktree) => removeTaskWorktree(worktree)));
    }
    expect(git(repository, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  describe("over what a killed git left at the task's path", () => {
    const worktreesDirectory = () => join(repository, '.loki', 'worktrees');
    const registered = () =>
      git(repository, 'worktree', 'list', '--porcelain')
        .split('\n')
        .filter((line) => line.startsWith('worktree '));
    beforeEach(() => {
      writeFileSync(join(repository, 'a.txt'), 'a\n');
      git(repository, 'add', 'a.txt');
      git(repository, 'commit', '--quiet', '-m', 'first');
    });

    it.each(LEFTOVER_WORKTREE_STATES)('re-creates the worktree of a resumed task (%s)', async (state) => {
      craftLeftoverWorktree(repository, worktreesDirectory(), 'task-1', state);
      const worktree = await createTaskWorktree({
        repositoryRoot: repository,
        worktreesDirectory: worktreesDirectory(),
        taskId: 'task-1',
      });
      expect(git(worktree.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('loki/task-1');
      expect(readFileSync(join(worktree.path, 'a.txt'), 'utf8')).toBe('a\n');
      writeFileSync(join(worktree.path, 'b.txt'), 'b\n');
      expect(await commitCheckpoint(worktree, '[Loki] eng-backend-task-1: add b')).toMatch(/^[0-9a-f]{40}$/);
      await removeTaskWorktree(worktree);
      expect(registered()).toHaveLength(1);
      expect(existsSync(worktree.path)).toBe(false);
    });

    it.each(LEFTOVER_WORKTREE_STATES)(
      'adds the worktree of a task claimed for the first time (%s, branch already made)',
      async (state) => {
        craftLeftoverWorktree(repository, worktreesDirectory(), 'task-1', state);
        const base = git(repository, 'rev-parse', 'HEAD');
        const worktree = await addNewTaskWorktree({
          repositoryRoot: repository,
          worktreesDirectory: worktreesDirectory(),
          taskId: 'task-1',
          baseCommit: base,
        });
        expect(git(worktree.path, 'rev-parse', 'HEAD')).toBe(base);
        expect(git(worktree.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('loki/task-1');
        await removeTaskWorktree(worktree);
        expect(registered()).toHaveLength(1);
      },
    );

    it('removes a task worktree that a killed add left locked', async () => {
      craftLeftoverWorktree(repository, worktreesDirectory(), 'task-1', 'locked-mid-checkout');
      const path = join(worktreesDirectory(), 'task-1');
      await removeTaskWorktree({ repositoryRoot: repository, path, branch: 'loki/task-1', baseCommit: '' });
      expect(registered()).toHaveLength(1);
      expect(existsSync(path)).toBe(false);
    });
  });
});
