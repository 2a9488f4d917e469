import { ExitCode, errorCode, isLokiError, LokiError } from '../errors/index.ts';

/**
 * A store fault: the store's storage itself failed (a full disk, a read-only or unwritable
 * directory, a corrupt file, an I/O error). It is nobody's task's fault and retrying does not help:
 * a run stops cleanly on it (its tasks go back to the queue uncounted) with a message that says
 * what happened and how to recover. Each kind has a stable code.
 */
export type StoreFaultKind = 'full' | 'read_only' | 'corrupt' | 'io';

export const STORE_FAULT_CODES: Readonly<Record<StoreFaultKind, string>> = {
  full: 'STORE_FULL',
  read_only: 'STORE_READ_ONLY',
  corrupt: 'STORE_CORRUPT',
  io: 'STORE_IO_ERROR',
};

const FAULT_CODES: ReadonlySet<string> = new Set(Object.values(STORE_FAULT_CODES));

/** True for a store fault: the worker and the scheduler stop the run on it instead of failing a task. */
export function isStoreFault(error: unknown): error is LokiError {
  return isLokiError(error) && FAULT_CODES.has(error.code);
}

export interface StoreFaultDetails {
  /** The store's file or directory, as the user knows it. */
  location: string;
  /** What the system or SQLite said. */
  detail: string;
  /** For a corrupt store: how to get the data back (which backup, which command). */
  restoreAdvice?: string;
  cause?: unknown;
}

const AGAIN = 'then run the command again (loki resume continues an interrupted run)';

/** Builds the fault; every message is one line: what happened, then what to do. */
export function storeFault(kind: StoreFaultKind, details: StoreFaultDetails): LokiError {
  const { location, detail } = details;
  const messages: Record<StoreFaultKind, string> = {
    full: `no space left on the disk of ${location} (${detail}): Loki stopped, and no task was counted as failed. Free some space on that disk, ${AGAIN}`,
    read_only: `${location} is read-only or not writable by this user (${detail}): Loki stopped, and no task was counted as failed. Make it writable (check the mount and the permissions of .loki/), ${AGAIN}`,
    corrupt: `${location} is corrupt (${detail}): Loki writes nothing more to it. ${details.restoreAdvice ?? 'Restore it from a backup'}`,
    io: `the disk failed while reading or writing ${location} (${detail}): Loki stopped, and no task was counted as failed. Check the disk (dmesg, free space, permissions); loki doctor checks the store, ${AGAIN}`,
  };
  return new LokiError(messages[kind], {
    code: STORE_FAULT_CODES[kind],
    // The user's machine needs fixing (space, permissions, a restore), yet it is not a usage error.
    category: 'user',
    exitCode: ExitCode.error,
    isRetryable: false,
    context: { location, detail, kind },
    ...(details.cause === undefined ? {} : { cause: details.cause }),
  });
}

/**
 * A file-system error from writing under the store's directory, as a store fault; null for errors
 * that say nothing about the disk (a missing file, a bad argument).
 */
export function storeFaultFromSystemError(error: unknown, location: string): LokiError | null {
  const code = errorCode(error);
  const kind = code === undefined ? undefined : SYSTEM_ERROR_KINDS[code];
  if (kind === undefined) return null;
  const detail = error instanceof Error ? error.message : String(error);
  return storeFault(kind, { location, detail, cause: error });
}

const SYSTEM_ERROR_KINDS: Readonly<Record<string, StoreFaultKind>> = {
  ENOSPC: 'full',
  EDQUOT: 'full',
  EROFS: 'read_only',
  EACCES: 'read_only',
  EPERM: 'read_only',
  EIO: 'io',
};
