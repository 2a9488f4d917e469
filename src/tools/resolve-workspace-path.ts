import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { errorCode } from '../errors/index.ts';
import { isSameOrInside } from './is-same-or-inside.ts';
import { requireRegularFileOrDirectory } from './special-file.ts';
import { invalidPathError, pathRefusedError } from './tool-errors.ts';

export { isSameOrInside };

export interface WorkspacePath {
  /** Absolute, with symlinks resolved: the path to operate on. */
  absolutePath: string;
  /** Relative to the worktree root, `.` for the root itself; for messages to the model. */
  relativePath: string;
  exists: boolean;
}

export type PathPurpose = 'read' | 'write';

/** lstat says "nothing here" with these, as opposed to a broken filesystem. */
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Resolves a path the model gave against the worktree and refuses it (TOOL_PATH_ESCAPE) if it
 * leaves the worktree, lexically (`..`, absolute paths) or through a symlink. For a path that
 * exists, its own realpath is checked; for a new file, the realpath of its deepest existing
 * ancestor (a symlinked directory pointing outside would otherwise carry the write out). Writes
 * into `.git` are refused too: the harness owns the repository metadata. A path that exists must be
 * a regular file or a directory (TOOL_UNSUPPORTED_FILE_TYPE): it is checked with lstat, never
 * opened, because opening a named pipe blocks.
 *
 * The check and the later file operation are not atomic; nothing else writes to the worktree while
 * a tool runs (tool calls of one agent are sequential), which is what makes this sufficient.
 */
export async function resolveWorkspacePath(
  worktree: string,
  requestedPath: string,
  purpose: PathPurpose,
): Promise<WorkspacePath> {
  if (requestedPath.includes('\0'))
    throw invalidPathError(requestedPath, 'The path contains a NUL character.');
  const realWorktree = await realpath(worktree);
  const candidate = isAbsolute(requestedPath) ? normalize(requestedPath) : resolve(worktree, requestedPath);
  if (!isSameOrInside(candidate, worktree) && !isSameOrInside(candidate, realWorktree)) {
    throw pathRefusedError(requestedPath, 'path_escape', `\`${requestedPath}\` is outside the worktree`);
  }

  const { existingPath, missingSuffix } = await deepestExistingAncestor(candidate);
  const realExisting = await realpath(existingPath).catch((error: unknown) => {
    // lstat found it but realpath cannot follow it: a dangling symlink. Writing through it would
    // create its target, wherever that is.
    if (MISSING_CODES.has(errorCode(error) ?? '')) {
      throw pathRefusedError(
        requestedPath,
        'symlink_escape',
        `\`${requestedPath}\` goes through a dangling symlink`,
      );
    }
    throw error;
  });
  if (!isSameOrInside(realExisting, realWorktree)) {
    throw pathRefusedError(
      requestedPath,
      'symlink_escape',
      `\`${requestedPath}\` resolves through a symlink to ${realExisting}, outside the worktree`,
    );
  }

  const absolutePath = missingSuffix === '' ? realExisting : join(realExisting, missingSuffix);
  const relativePath = relative(realWorktree, absolutePath) || '.';
  if (purpose === 'write' && relativePath.split(sep).includes('.git')) {
    throw pathRefusedError(requestedPath, 'git_directory', `\`${requestedPath}\` is inside .git`);
  }
  // The real path has no symlink left to follow, so lstat describes the file itself.
  if (missingSuffix === '') requireRegularFileOrDirectory(await lstat(absolutePath), relativePath);
  return { absolutePath, relativePath, exists: missingSuffix === '' };
}

async function deepestExistingAncestor(
  path: string,
): Promise<{ existingPath: string; missingSuffix: string }> {
  let current = path;
  for (;;) {
    try {
      await lstat(current);
      return { existingPath: current, missingSuffix: relative(current, path) };
    } catch (error) {
      if (!MISSING_CODES.has(errorCode(error) ?? '')) throw error;
      const parent = dirname(current);
      // The filesystem root always exists; reaching it here would mean lstat lies.
      if (parent === current) throw error;
      current = parent;
    }
  }
}
