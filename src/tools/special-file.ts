import type { Stats } from 'node:fs';
import type { LokiError } from '../errors/index.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';

/**
 * What a file that is neither a regular file nor a directory is, in words, or null for those two.
 * File tools open only regular files and directories: opening a named pipe for reading waits for a
 * writer that never comes, a device such as /dev/zero reads for ever, and either would hold the
 * tool call (and a thread of Node's file-system pool) with no timeout.
 */
export function describeSpecialFile(stats: Stats): string | null {
  if (stats.isFile() || stats.isDirectory()) return null;
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

export function specialFileError(displayPath: string, description: string): LokiError {
  return toolUsageError(
    ToolErrorCode.unsupportedFileType,
    `${displayPath} is ${description}, not a regular file or directory; file tools only open regular files and directories. Work with another file.`,
    { path: displayPath },
  );
}

/** Throws TOOL_UNSUPPORTED_FILE_TYPE unless `stats` is a regular file or a directory. */
export function requireRegularFileOrDirectory(stats: Stats, displayPath: string): void {
  const description = describeSpecialFile(stats);
  if (description !== null) throw specialFileError(displayPath, description);
}
