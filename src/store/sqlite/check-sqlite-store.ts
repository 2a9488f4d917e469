import { DatabaseSync } from 'node:sqlite';
import { isStoreFault } from '../store-faults.ts';
import { classifySqliteError } from './sqlite-faults.ts';

export interface StoreIntegrity {
  isSound: boolean;
  /** `integrity ok`, or what is wrong (SQLite's first findings). */
  detail: string;
}

/** How many problems `integrity_check` lists at most: enough to show it is broken and where. */
const MAX_FINDINGS = 5;

/**
 * SQLite's full `PRAGMA integrity_check` of the database at `path`, opened read-only, so that a
 * check never changes the store (a live run may be using it). A file that cannot even be read as a
 * database is unsound too; any other failure (a missing file) is thrown.
 */
export function checkSqliteStore(path: string): StoreIntegrity {
  let database: DatabaseSync | undefined;
  try {
    database = new DatabaseSync(path, { readOnly: true });
    const findings = database
      .prepare(`PRAGMA integrity_check(${MAX_FINDINGS})`)
      .all()
      .map((row) => String(row.integrity_check));
    if (findings.length === 1 && findings[0] === 'ok') return { isSound: true, detail: 'integrity ok' };
    return { isSound: false, detail: `corrupt: ${findings.join('; ')}` };
  } catch (error) {
    const fault = classifySqliteError(error, { location: path, restoreAdvice: () => '' });
    if (!isStoreFault(fault)) throw fault;
    const detail = String(fault.context.detail);
    return { isSound: false, detail: fault.code === 'STORE_CORRUPT' ? `corrupt: ${detail}` : detail };
  } finally {
    database?.close();
  }
}
