import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { requireRegularFileOrDirectory } from './special-file.ts';

/**
 * Non-blocking, so that a named pipe put in place after the path was checked fails at once (no
 * reader: ENXIO) or is refused by fstat before anything is written, instead of waiting for a
 * reader; no effect on a regular file. No symlink: the caller resolved and checked them.
 */
const OPEN_FOR_WRITING =
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Creates or replaces a regular file with `content`; anything else at the path is refused. */
export async function writeTextFile(
  absolutePath: string,
  content: string,
  displayPath: string,
): Promise<void> {
  const handle = await open(absolutePath, OPEN_FOR_WRITING, 0o666);
  try {
    requireRegularFileOrDirectory(await handle.stat(), displayPath);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}
