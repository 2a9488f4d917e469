import { statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { errorCode } from '../errors/index.ts';

/**
 * Places under the home directory where credentials usually live. The root filesystem is
 * readable inside the sandbox (compilers, node_modules caches), so these are masked: a command
 * with network access must not be able to read and send them.
 */
export const DEFAULT_HIDDEN_HOME_PATHS: readonly string[] = [
  '.ssh',
  '.aws',
  '.azure',
  '.gnupg',
  '.docker',
  '.kube',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.config/gh',
  '.config/gcloud',
  '.claude',
  '.claude.json',
  '.codex',
];

export interface HiddenPath {
  path: string;
  kind: 'directory' | 'file';
}

/**
 * The credential paths that exist under `homeDirectory`, except any that hold a path that must
 * stay visible (the worktree; an agent CLI's own state, which it writes).
 */
export function findHiddenPaths(
  homeDirectory: string | undefined,
  relativePaths: readonly string[],
  keepVisible: readonly string[],
): HiddenPath[] {
  if (homeDirectory === undefined || homeDirectory === '') return [];
  const hidden: HiddenPath[] = [];
  for (const relativePath of relativePaths) {
    const path = join(homeDirectory, relativePath);
    // Masking a folder would hide what must stay visible inside it; a credential inside a visible
    // folder is still masked (the masks are applied after the writable binds).
    if (keepVisible.some((visible) => isSameOrInside(visible, path))) continue;
    const kind = pathKind(path);
    if (kind !== null) hidden.push({ path, kind });
  }
  return hidden;
}

/** Bubblewrap arguments masking each path: an empty tmpfs over a folder, /dev/null over a file. */
export function hideArguments(hiddenPaths: readonly HiddenPath[]): string[] {
  return hiddenPaths.flatMap((hidden) =>
    hidden.kind === 'directory' ? ['--tmpfs', hidden.path] : ['--ro-bind', '/dev/null', hidden.path],
  );
}

function pathKind(path: string): HiddenPath['kind'] | null {
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) return 'directory';
    return stats.isFile() ? 'file' : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return null;
    throw error;
  }
}

function isSameOrInside(path: string, directory: string): boolean {
  const relation = relative(directory, path);
  return relation === '' || (relation !== '..' && !relation.startsWith(`..${sep}`) && !isAbsolute(relation));
}
