import { errorCode, LokiError } from '../../errors/index.ts';
import { storeFault, type StoreFaultKind } from '../store-faults.ts';

/** SQLSTATE classes and codes (PostgreSQL appendix A) that mean the server's storage failed. */
const FAULT_KINDS: ReadonlyMap<string, StoreFaultKind> = new Map([
  ['53100', 'full'], // disk_full
  ['25006', 'read_only'], // read_only_sql_transaction (a standby, or default_transaction_read_only)
  ['XX001', 'corrupt'], // data_corrupted
  ['XX002', 'corrupt'], // index_corrupted
  ['58030', 'io'], // io_error
]);

/** Errors after which the same transaction, run again, may well succeed. */
const RETRYABLE_STATES: ReadonlySet<string> = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** Node's and the server's ways of saying the server cannot be reached or went away. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

export function isRetryablePostgresError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && RETRYABLE_STATES.has(code);
}

/**
 * Turns what `pg` threw into Loki's error: a store fault (full, read-only, corrupt, I/O), an
 * unreachable server, a refused login or a missing database, each naming the fix; anything else
 * (a bug in a query) is returned unchanged.
 */
export function classifyPostgresError(error: unknown, location: string): unknown {
  if (error instanceof LokiError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const kind = code === undefined ? undefined : FAULT_KINDS.get(code);
  if (kind !== undefined) {
    return storeFault(kind, {
      location,
      detail,
      cause: error,
      ...(kind === 'corrupt'
        ? { restoreAdvice: 'Restore the database from its PostgreSQL backups (pg_dump, base backups).' }
        : {}),
    });
  }
  if (
    (code !== undefined && UNREACHABLE_CODES.has(code)) ||
    /Connection terminated|connection timeout/i.test(detail)
  ) {
    return new LokiError(
      `cannot reach the PostgreSQL store at ${location} (${detail}); start the server or fix the host and port in --store / LOKI_STORE_URL, then run the command again`,
      { code: 'STORE_UNREACHABLE', category: 'user', isRetryable: true, cause: error, context: { location } },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new LokiError(
      `the PostgreSQL server at ${location} refused the login (${detail}); fix the user and password in the store URL, or the server's pg_hba.conf`,
      { code: 'STORE_LOGIN_REFUSED', category: 'user', cause: error, context: { location } },
    );
  }
  if (code === '3D000') {
    return new LokiError(
      `the database named in ${location} does not exist (${detail}); create it (createdb NAME, or CREATE DATABASE) and run the command again`,
      { code: 'STORE_DATABASE_MISSING', category: 'user', cause: error, context: { location } },
    );
  }
  return error;
}
