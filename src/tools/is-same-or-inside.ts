import { isAbsolute, relative, sep } from 'node:path';

/** Whether `path` is `directory` or lies under it, lexically (resolve symlinks first). */
export function isSameOrInside(path: string, directory: string): boolean {
  const relation = relative(directory, path);
  return relation === '' || (relation !== '..' && !relation.startsWith(`..${sep}`) && !isAbsolute(relation));
}
