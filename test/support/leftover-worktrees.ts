import { mkdirSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gitOutput } from './git.ts';

/**
 * What a `git worktree add` (or `remove`, or a commit) killed half-way leaves behind, crafted on
 * purpose with real git so a test can reproduce it every time instead of hoping a kill lands in a
 * window a few milliseconds wide. `git worktree add` works in this order: make the branch (`-b`),
 * make the admin directory `.git/worktrees/<name>` and write `locked` ("initializing") into it,
 * make the worktree directory, write `gitdir`, the worktree's `.git` file, `commondir` and `HEAD`,
 * check the files out (holding the admin directory's `index.lock`), and only then delete `locked`.
 */
export type LeftoverWorktreeState =
  /** Killed during the checkout, then the directory removed by an earlier recovery: "missing but locked". */
  | 'missing-but-locked'
  /** Killed during the checkout: locked, some files, the admin directory's index.lock still held. */
  | 'locked-mid-checkout'
  /** Killed right after the lock: an admin directory holding only `locked`, an empty worktree directory. */
  | 'half-made-admin'
  /** Killed while writing `commondir` (empty): every `git worktree list` and `add` in the repository fails. */
  | 'empty-commondir'
  /** The admin directory went (a prune or remove killed half-way) and the worktree directory stayed. */
  | 'directory-without-admin'
  /** Killed after making the worktree directory, before anything was written into it. */
  | 'bare-directory'
  /** The worktree directory went and its admin entry stayed (not locked): "missing but registered". */
  | 'admin-without-directory';

export const LEFTOVER_WORKTREE_STATES: readonly LeftoverWorktreeState[] = [
  'missing-but-locked',
  'locked-mid-checkout',
  'half-made-admin',
  'directory-without-admin',
  'bare-directory',
  'admin-without-directory',
  // Last: once it exists, git cannot add the worktrees the other states start from.
  'empty-commondir',
];

/**
 * Leaves `<worktreesDirectory>/<taskId>` (branch `loki/<taskId>` at the repository's HEAD, made as
 * `add -b` makes it before anything else) in `state`. The repository needs a commit.
 */
export function craftLeftoverWorktree(
  repository: string,
  worktreesDirectory: string,
  taskId: string,
  state: LeftoverWorktreeState,
): void {
  const git = (...args: string[]) => gitOutput(repository, ...args);
  const commonDirectory = realpathSync(join(repository, git('rev-parse', '--git-common-dir')));
  const admin = join(commonDirectory, 'worktrees', taskId);
  const path = join(worktreesDirectory, taskId);
  const branch = `loki/${taskId}`;
  const lock = () => writeFileSync(join(admin, 'locked'), 'initializing');
  mkdirSync(worktreesDirectory, { recursive: true });
  git('branch', branch, 'HEAD');
  if (state === 'half-made-admin' || state === 'empty-commondir' || state === 'bare-directory') {
    mkdirSync(path);
    if (state === 'bare-directory') return;
    mkdirSync(admin, { recursive: true });
    lock();
    if (state === 'half-made-admin') return;
    const realPath = realpathSync(path);
    writeFileSync(join(admin, 'gitdir'), `${join(realPath, '.git')}\n`);
    writeFileSync(join(realPath, '.git'), `gitdir: ${admin}\n`);
    writeFileSync(join(admin, 'commondir'), '');
    return;
  }
  git('worktree', 'add', '--quiet', path, branch);
  switch (state) {
    case 'missing-but-locked':
      lock();
      rmSync(path, { recursive: true, force: true });
      return;
    case 'locked-mid-checkout': {
      lock();
      writeFileSync(join(admin, 'index.lock'), '');
      const [first] = git('ls-files').split('\n');
      if (first !== undefined && first !== '') unlinkSync(join(path, first));
      return;
    }
    case 'directory-without-admin':
      writeFileSync(join(path, 'half-written.txt'), 'left by a killed agent\n');
      rmSync(admin, { recursive: true, force: true });
      return;
    case 'admin-without-directory':
      rmSync(path, { recursive: true, force: true });
      return;
  }
}

/** A branch update killed half-way (a checkpoint commit, `git branch`) leaves the ref's lock file. */
export function craftStaleBranchLock(repository: string, branch: string): void {
  const commonDirectory = realpathSync(
    join(repository, gitOutput(repository, 'rev-parse', '--git-common-dir')),
  );
  const lockFile = join(commonDirectory, 'refs', 'heads', `${branch}.lock`);
  mkdirSync(dirname(lockFile), { recursive: true });
  writeFileSync(lockFile, '');
}
