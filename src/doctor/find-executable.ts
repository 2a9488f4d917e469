import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Errors that just mean "not in this directory", as opposed to a broken filesystem. */
const NOT_HERE_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'ELOOP', 'ENAMETOOLONG']);

/**
 * Finds an executable the way a shell would, but on an injected PATH so tests decide what is
 * installed. Relative PATH entries are skipped: they resolve against whatever the current
 * directory happens to be, which is never what a health check should report.
 */
export function findExecutable(name: string, pathVariable: string | undefined): string | undefined {
  if (pathVariable === undefined) return undefined;
  for (const directory of pathVariable.split(delimiter)) {
    if (directory === '' || !isAbsolute(directory)) continue;
    const candidate = join(directory, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch (error) {
    const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
    if (code !== undefined && NOT_HERE_CODES.has(code)) return false;
    throw error;
  }
}
