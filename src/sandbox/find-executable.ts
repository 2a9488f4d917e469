import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { errorCode } from '../errors/index.ts';

const NOT_HERE_CODES = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'ELOOP', 'ENAMETOOLONG']);

/** Looks an executable up on an injected PATH; relative entries are skipped (they depend on the cwd). */
export function findExecutable(name: string, pathVariable: string | undefined): string | undefined {
  for (const directory of (pathVariable ?? '').split(delimiter)) {
    if (directory === '' || !isAbsolute(directory)) continue;
    const candidate = join(directory, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch (error) {
      const code = errorCode(error);
      if (code !== undefined && NOT_HERE_CODES.has(code)) continue;
      throw error;
    }
  }
  return undefined;
}
