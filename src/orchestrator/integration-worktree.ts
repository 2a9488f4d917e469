import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runGit } from '../git/index.ts';

/**
 * The project's own git hooks (husky and friends) must not run on every checkout and rebase of the
 * integration worktree: they are slow, may have side effects, and verification is the gate here.
 */
export const WITHOUT_HOOKS = ['-c', 'core.hooksPath=/dev/null'] as const;

/**
 * The merge queue's private worktree (`<workDirectory>/integration`, detached, never on a branch):
 * where rebases happen and verification runs on a candidate checkpoint. Created on first use (or
 * again when it was deleted), reset to a commit whatever a previous merge or a kill -9 left in it.
 */
export class IntegrationWorktree {
  readonly path: string;
  readonly #repositoryRoot: string;
  readonly #workDirectory: string;
  readonly #mainReference: string;
  #isReady = false;
  /** Where git keeps the state of an interrupted rebase here (`rev-parse --git-path`), asked once. */
  #rebaseStateDirectories: string[] | null = null;

  constructor(options: { repositoryRoot: string; workDirectory: string; mainReference: string }) {
    this.#repositoryRoot = options.repositoryRoot;
    this.#workDirectory = options.workDirectory;
    this.#mainReference = options.mainReference;
    this.path = join(options.workDirectory, 'integration');
  }

  /** Makes sure the worktree exists; true when it was (re)made, so nothing known about its state holds. */
  async prepare(signal: AbortSignal | undefined): Promise<boolean> {
    const signalOption = signal === undefined ? {} : { signal };
    if (this.#isReady && existsSync(this.path)) return false;
    this.#rebaseStateDirectories = null;
    const root = this.#repositoryRoot;
    mkdirSync(this.#workDirectory, { recursive: true });
    await runGit(root, ['worktree', 'prune'], signalOption);
    const isUsable =
      existsSync(this.path) &&
      (await runGit(this.path, ['rev-parse', '--is-inside-work-tree'], {
        allowFailure: true,
        ...signalOption,
      }).then((result) => result.exitCode === 0 && result.stdout.trim() === 'true'));
    if (!isUsable) {
      await runGit(
        root,
        [
          ...WITHOUT_HOOKS,
          'worktree',
          'add',
          '--quiet',
          '--force',
          '--detach',
          this.path,
          this.#mainReference,
        ],
        signalOption,
      );
    }
    this.#isReady = true;
    return true;
  }

  /**
   * Puts the worktree at `commit` whatever state a previous merge (or a kill -9) left it in.
   * Ignored files (dependency folders, build caches) survive so verification stays fast.
   */
  async reset(commit: string, signal: AbortSignal | undefined): Promise<void> {
    const signalOption = signal === undefined ? {} : { signal };
    // The paths are fixed for the life of the worktree: asked once, not on every reset.
    this.#rebaseStateDirectories ??= await Promise.all(
      ['rebase-merge', 'rebase-apply'].map(async (name) =>
        resolve(
          this.path,
          (await runGit(this.path, ['rev-parse', '--git-path', name], signalOption)).stdout.trim(),
        ),
      ),
    );
    if (this.#rebaseStateDirectories.some((directory) => existsSync(directory))) {
      await runGit(this.path, [...WITHOUT_HOOKS, 'rebase', '--abort'], {
        allowFailure: true,
        ...signalOption,
      });
    }
    await this.checkOut(commit, signal);
    await runGit(this.path, ['clean', '-ffdq'], signalOption);
  }

  /** Checks `commit` out, detached, overwriting whatever is in the way. */
  async checkOut(commit: string, signal: AbortSignal | undefined): Promise<void> {
    await runGit(
      this.path,
      [...WITHOUT_HOOKS, 'checkout', '--quiet', '--force', '--detach', commit],
      signal === undefined ? {} : { signal },
    );
  }

  /** Removes the worktree (main and task branches stay). */
  async remove(): Promise<void> {
    if (!this.#isReady && !existsSync(this.path)) return;
    const root = this.#repositoryRoot;
    await runGit(root, ['worktree', 'remove', '--force', this.path], { allowFailure: true });
    await runGit(root, ['worktree', 'prune']);
    this.#isReady = false;
  }
}
