import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { usageError } from '../errors/index.ts';

export const MAX_PRD_BYTES = 5 * 1024 * 1024;

/**
 * Reads and checks a PRD before anything is written: a bad PRD must fail with exit 2 and leave the
 * workspace untouched. The user's file is only ever read.
 */
export function readPrd(
  path: string,
  cwd: string,
): { absolutePath: string; bytes: Buffer; text: string; mode: number } {
  const absolutePath = resolve(cwd, path);
  let size: number;
  let mode: number;
  try {
    const stats = statSync(absolutePath);
    if (stats.isDirectory()) {
      throw usageError(
        'PRD_IS_DIRECTORY',
        `PRD path "${path}" is a directory; pass the PRD file itself, e.g. ${path}/prd.md`,
      );
    }
    if (!stats.isFile()) throw usageError('PRD_NOT_A_FILE', `PRD path "${path}" is not a regular file`);
    size = stats.size;
    // statSync follows symlinks: these are the bits of the file whose content is read.
    mode = stats.mode & 0o777;
  } catch (error) {
    if (isNodeError(error) && error.code === 'ENOENT') {
      throw usageError(
        'PRD_NOT_FOUND',
        `PRD file "${path}" does not exist; check the path (relative to ${cwd})`,
      );
    }
    if (isNodeError(error) && error.code === 'EACCES') {
      throw usageError('PRD_UNREADABLE', `PRD file "${path}" cannot be read (permission denied)`);
    }
    throw error;
  }
  if (size > MAX_PRD_BYTES) {
    throw usageError(
      'PRD_TOO_LARGE',
      `PRD file "${path}" is ${(size / 1024 / 1024).toFixed(1)} MB; the limit is 5 MB. Trim it to the requirements`,
    );
  }
  const bytes = readFileSync(absolutePath);
  if (bytes.length === 0 || bytes.toString('utf8').trim() === '') {
    throw usageError('PRD_EMPTY', `PRD file "${path}" is empty; write the product requirements in it first`);
  }
  if (bytes.includes(0)) {
    throw usageError(
      'PRD_BINARY',
      `PRD file "${path}" looks binary (it contains NUL bytes); a PRD must be UTF-8 text such as Markdown`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // The decoder only throws for malformed input; that is exactly what we report.
    throw usageError('PRD_NOT_UTF8', `PRD file "${path}" is not valid UTF-8; save it as UTF-8 text`);
  }
  return { absolutePath, bytes, text, mode };
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
