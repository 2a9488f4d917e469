import { realpathSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, resolve, sep } from 'node:path';
import { errorCode } from '../errors/index.ts';
import { gitPathsForSandbox } from '../git/index.ts';

/** Folders every sandbox replaces with an empty tmpfs: what lives there must be bound back in. */
const MASKED_FOLDERS: readonly string[] = ['/tmp', '/run'];

/**
 * The bind arguments a sandbox around `worktree` needs besides the worktree itself, in the order
 * bubblewrap must apply them:
 * - `beforeWorktree`: read-only binds that come after the tmpfs mounts (so they win when they live
 *   under /tmp) and before the worktree's own read-write bind: the folders of the command's PATH
 *   that a tmpfs would hide (Node or a toolchain unpacked under /tmp), and the repository's git
 *   directory (git inside the sandbox needs it when the workspace is under /tmp);
 * - `afterWorktree`: the worktree's gitfile bound read-only over itself, so that no command can
 *   delete or replace it (see DESIGN.md, Git safety).
 */
export function sandboxVisiblePaths(
  worktree: string,
  pathVariable: string | undefined,
): { beforeWorktree: string[]; afterWorktree: string[] } {
  const git = gitPathsForSandbox(worktree);
  const readOnly = [...maskedToolFolders(pathVariable), ...git.readOnlyDirectories];
  return {
    beforeWorktree: [...new Set(readOnly)].flatMap((path) => ['--ro-bind-try', path, path]),
    afterWorktree: git.protectedFiles.flatMap((path) => ['--ro-bind-try', path, path]),
  };
}

/**
 * PATH folders (as given and as their real paths) that lie under a masked folder. A `…/bin` folder
 * brings its parent too: a toolchain's executables are links into its `lib/` (npm, npx, corepack).
 * A masked folder itself is never bound back whole (it would bring every other task's files).
 */
export function maskedToolFolders(pathVariable: string | undefined): string[] {
  const folders: string[] = [];
  for (const entry of (pathVariable ?? '').split(delimiter)) {
    if (entry === '' || !isAbsolute(entry)) continue;
    for (const folder of new Set([resolve(entry), realPathOrUndefined(entry)])) {
      if (folder === undefined || !isUnderMaskedFolder(folder)) continue;
      const prefix = basename(folder) === 'bin' ? dirname(folder) : folder;
      folders.push(isUnderMaskedFolder(prefix) ? prefix : folder);
    }
  }
  return [...new Set(folders)];
}

function isUnderMaskedFolder(path: string): boolean {
  return MASKED_FOLDERS.some((masked) => path.startsWith(masked + sep));
}

function realPathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR' || errorCode(error) === 'EACCES') {
      return undefined;
    }
    throw error;
  }
}
