import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  plainGitDirectory,
  readLooseCommitParents,
  readLooseRef,
  readSymbolicHead,
  readWorktreeHead,
} from './read-loose.ts';
import { gitOutput } from '../../test/support/git.ts';
import { noteRepositoryRoot } from './git-location.ts';

const git = gitOutput;

describe("reading git's own files", () => {
  let repository: string;
  let gitDirectory: string;
  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), 'loki-read-loose-'));
    git(repository, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repository, 'a.txt'), 'a\n');
    git(repository, 'add', 'a.txt');
    git(repository, 'commit', '--quiet', '-m', 'first');
    gitDirectory = join(repository, '.git');
  });
  afterEach(() => rmSync(repository, { recursive: true, force: true }));

  it('answers what git answers for loose refs, commits, HEAD and a linked worktree', () => {
    expect(plainGitDirectory(repository)).toBe(gitDirectory);
    const first = git(repository, 'rev-parse', 'HEAD');
    writeFileSync(join(repository, 'b.txt'), 'b\n');
    git(repository, 'add', 'b.txt');
    git(repository, 'commit', '--quiet', '-m', 'second');
    const second = git(repository, 'rev-parse', 'HEAD');

    expect(readLooseRef(gitDirectory, 'refs/heads/main')).toBe(second);
    expect(readSymbolicHead(gitDirectory)).toBe('refs/heads/main');
    expect(readLooseCommitParents(gitDirectory, second)).toEqual([first]);
    expect(readLooseCommitParents(gitDirectory, first)).toEqual([]);
    // A merge commit lists both parents, in git's order.
    git(repository, 'checkout', '--quiet', '-b', 'side', first);
    writeFileSync(join(repository, 'c.txt'), 'c\n');
    git(repository, 'add', 'c.txt');
    git(repository, 'commit', '--quiet', '-m', 'side');
    const side = git(repository, 'rev-parse', 'HEAD');
    git(repository, 'checkout', '--quiet', 'main');
    git(repository, 'merge', '--quiet', '--no-edit', 'side');
    const merge = git(repository, 'rev-parse', 'HEAD');
    expect(readLooseCommitParents(gitDirectory, merge)).toEqual([second, side]);
    // A tree is not a commit.
    expect(readLooseCommitParents(gitDirectory, git(repository, 'rev-parse', 'HEAD^{tree}'))).toBeUndefined();

    const worktree = join(repository, 'wt');
    git(repository, 'worktree', 'add', '--quiet', '-b', 'loki/task-1', worktree, first);
    // Only worktrees of a repository Loki works on are read (through its registered git directory).
    expect(readWorktreeHead(worktree)).toBeUndefined();
    noteRepositoryRoot(repository);
    expect(readWorktreeHead(worktree)).toBe(first);
    git(worktree, 'checkout', '--quiet', '--detach', second);
    expect(readWorktreeHead(worktree)).toBe(second);
  });

  it('says nothing (so the caller asks git) once refs and objects are packed', () => {
    const head = git(repository, 'rev-parse', 'HEAD');
    git(repository, 'gc', '--quiet');
    expect(readLooseRef(gitDirectory, 'refs/heads/main')).toBeUndefined();
    expect(readLooseCommitParents(gitDirectory, head)).toBeUndefined();
    expect(readLooseRef(gitDirectory, 'refs/heads/missing')).toBeUndefined();
    git(repository, 'checkout', '--quiet', '--detach');
    expect(readSymbolicHead(gitDirectory)).toBeUndefined();
    expect(plainGitDirectory(join(repository, 'nowhere'))).toBeUndefined();
  });
});
