import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * the content goes to a temp file in the same directory, then is renamed over the target.
 * With `mode`, the file is created with those permission bits (less the umask) and is never
 * readable by anyone else, not even for a moment.
 */
export function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  options: { mode?: number } = {},
): void {
  const temporaryPath = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporaryPath, content, options.mode === undefined ? {} : { mode: options.mode });
    renameSync(temporaryPath, path);
  } catch (error) {
    rmSync(temporaryPath, { force: true });
    throw error;
  }
}
