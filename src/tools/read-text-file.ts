import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { errorCode } from '../errors/index.ts';
import { requireRegularFileOrDirectory } from './special-file.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';

/** Larger files are logs or data, not source: grep them or read them through a command. */
export const MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024;
/** Like git: a NUL byte in the first 8 KB means binary. */
const BINARY_SNIFF_BYTES = 8_000;
/**
 * Non-blocking, so that a named pipe put in place after the path was checked opens at once instead
 * of waiting for a writer (then fstat refuses it); no effect on a regular file. No symlink either:
 * the caller passes a path whose symlinks are already resolved and checked.
 */
const OPEN_FOR_READING = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Reads a UTF-8 text file for the model, with errors that say what to do instead. */
export async function readTextFile(absolutePath: string, displayPath: string): Promise<string> {
  const handle = await open(absolutePath, OPEN_FOR_READING).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') {
      throw toolUsageError(
        ToolErrorCode.fileUnreadable,
        `File not found: ${displayPath}. Use list_dir or glob to find the right path.`,
      );
    }
    throw error;
  });
  try {
    const stats = await handle.stat();
    requireRegularFileOrDirectory(stats, displayPath);
    if (stats.isDirectory()) {
      throw toolUsageError(
        ToolErrorCode.fileUnreadable,
        `${displayPath} is a directory; use list_dir to see what is in it.`,
      );
    }
    if (stats.size > MAX_TEXT_FILE_BYTES) {
      throw toolUsageError(
        ToolErrorCode.fileUnreadable,
        `${displayPath} is ${stats.size} bytes, more than read_file reads (${MAX_TEXT_FILE_BYTES}); use grep, or run_command with head/tail.`,
      );
    }
    const content = await handle.readFile();
    if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      throw toolUsageError(
        ToolErrorCode.fileUnreadable,
        `${displayPath} is a binary file (${content.length} bytes); read_file only reads text. Inspect it with run_command (e.g. \`file\`, \`xxd | head\`).`,
      );
    }
    return content.toString('utf8');
  } finally {
    await handle.close();
  }
}
