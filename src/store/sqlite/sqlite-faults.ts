import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { LokiError } from '../../errors/index.ts';
import { storeFault, storeFaultFromSystemError, type StoreFaultKind } from '../store-faults.ts';

/** SQLite's primary result codes (the low byte of an extended code) that mean the storage failed. */
const SQLITE_PERM = 3;
const SQLITE_BUSY = 5;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

const FAULT_KINDS: ReadonlyMap<number, StoreFaultKind> = new Map([
  [SQLITE_FULL, 'full'],
  [SQLITE_READONLY, 'read_only'],
  [SQLITE_PERM, 'read_only'],
  [SQLITE_CORRUPT, 'corrupt'],
  [SQLITE_NOTADB, 'corrupt'],
  [SQLITE_IOERR, 'io'],
]);

export interface SqliteFaultContext {
  location: string;
  restoreAdvice: () => string;
}

/**
 * Turns what node:sqlite (or the file system under the database) threw into Loki's error: a store
 * fault (full, read-only, corrupt, I/O) or STORE_BUSY; anything else is returned unchanged.
 */
export function classifySqliteError(error: unknown, context: SqliteFaultContext): unknown {
  if (error instanceof LokiError) return error;
  const systemFault = storeFaultFromSystemError(error, context.location);
  if (systemFault !== null) return systemFault;
  const sqliteCode = sqliteResultCode(error);
  if (sqliteCode === undefined) return error;
  const detail = (error as Error).message;
  if (sqliteCode === SQLITE_BUSY) {
    // Other writers kept the lock past the busy timeout: worth retrying later, not a fault.
    return new LokiError(
      `the store at ${context.location} stayed locked by other writers past the busy timeout; retry shortly`,
      { code: 'STORE_BUSY', category: 'internal', isRetryable: true, cause: error },
    );
  }
  const kind =
    sqliteCode === SQLITE_CANTOPEN ? cannotOpenKind(context.location) : FAULT_KINDS.get(sqliteCode);
  if (kind === undefined) return error;
  return storeFault(kind, {
    location: context.location,
    detail,
    cause: error,
    ...(kind === 'corrupt' ? { restoreAdvice: context.restoreAdvice() } : {}),
  });
}

/** The primary SQLite result code of an error thrown by node:sqlite, if it is one. */
function sqliteResultCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code !== 'ERR_SQLITE_ERROR' || typeof errcode !== 'number') return undefined;
  return errcode & 0xff;
}

/**
 * SQLITE_CANTOPEN does not say why. Most often the directory cannot be written (the WAL and its
 * shared-memory file are created next to the database); otherwise the disk is at fault.
 */
function cannotOpenKind(location: string): StoreFaultKind {
  try {
    accessSync(dirname(location), constants.W_OK);
    return 'io';
  } catch (error) {
    // The answer to the question asked: the directory is not writable (EROFS, EACCES) or gone.
    return error instanceof Error && 'code' in error && error.code === 'ENOENT' ? 'io' : 'read_only';
  }
}
