import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { errorCode, type LokiError } from '../errors/index.ts';
import { isStoreFault, storeFaultFromSystemError } from '../store/index.ts';
import type { WorkspacePaths } from './workspace-paths.ts';

/** Errors that say the disk is full or failing, wherever they come from. */
const DISK_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO']);
/** Errors that say a file could not be written: a workspace fault only for a path under `.loki/`. */
const WRITE_REFUSED_ERRORS: ReadonlySet<string> = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * The error as a store fault when it is one, or when it is the disk under `.loki/` failing (full,
 * read-only, unwritable, I/O): the store, the projections and the task worktrees all live there,
 * so a run cannot go on and no task is to blame. Null for any other error.
 */
export function toWorkspaceFault(error: unknown, paths: WorkspacePaths): LokiError | null {
  if (isStoreFault(error)) return error;
  const code = errorCode(error);
  if (code === undefined) return null;
  const path = (error as NodeJS.ErrnoException).path;
  const isUnderLoki = path !== undefined && isInside(paths.lokiDirectory, path);
  if (DISK_ERRORS.has(code) || (WRITE_REFUSED_ERRORS.has(code) && isUnderLoki)) {
    return storeFaultFromSystemError(error, paths.lokiDirectory);
  }
  return null;
}

/** Bytes the probe writes: more than a store transaction needs, so a disk that fits it can go on. */
const PROBE_BYTES = 64 * 1024;

/**
 * Whether `.loki/` can still be written, asked the direct way: a small file is written, synced and
 * removed. Null when it can; the store fault (full, read-only) when it cannot. For a failure whose
 * cause is hidden (a git command that failed to write a worktree), so that a full or read-only
 * disk stops the run instead of being counted against the task.
 */
export function probeWorkspaceFault(paths: WorkspacePaths): LokiError | null {
  const probe = join(paths.stateDirectory, `.write-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  let descriptor: number | undefined;
  try {
    descriptor = openSync(probe, 'wx');
    writeSync(descriptor, Buffer.alloc(PROBE_BYTES));
    fsyncSync(descriptor);
    return null;
  } catch (error) {
    // Failing for another reason (the folder is gone) says nothing about the disk: the caller's
    // own error stands.
    return storeFaultFromSystemError(error, paths.lokiDirectory);
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
    rmSync(probe, { force: true });
  }
}

function isInside(directory: string, path: string): boolean {
  const fromDirectory = relative(directory, path);
  return fromDirectory === '' || (!fromDirectory.startsWith('..') && !isAbsolute(fromDirectory));
}
