import { rmSync } from 'node:fs';
import * as sqlite from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';

/** `backup()` of node:sqlite exists from Node 22.16 and 23.8; Loki supports Node 22.13 and newer. */
const onlineBackup: typeof sqlite.backup | undefined =
  typeof sqlite.backup === 'function' ? sqlite.backup : undefined;

/** Pages copied per step: small steps let the store's own writes go on between them. */
const PAGES_PER_STEP = 256;

/** Online copies tried before the one-statement copy; the waits between them grow. */
const ONLINE_ATTEMPTS = 5;
const FIRST_RETRY_WAIT_MS = 25;

/**
 * Copies `database` to `path` while it stays in use. SQLite's online backup API copies it in steps
 * off the main thread; a write by another connection meanwhile makes it start over, so the copy is
 * always one consistent state of the database. A step that runs while this connection is inside a
 * write transaction finds the source busy, and node:sqlite then rejects the whole copy (with
 * SQLite's "not an error", as the busy code is never set on the destination): the copy is started
 * afresh after a short wait. Where node:sqlite has no `backup()`, or the source stays busy,
 * `VACUUM INTO` writes the same consistent copy in one statement on this thread. `path` must not
 * exist yet.
 */
export async function backUpSqliteDatabase(database: sqlite.DatabaseSync, path: string): Promise<void> {
  if (onlineBackup !== undefined) {
    for (let attempt = 1; attempt <= ONLINE_ATTEMPTS; attempt += 1) {
      try {
        await onlineBackup(database, path, { rate: PAGES_PER_STEP });
        return;
      } catch (error) {
        if (!isSourceBusy(error)) throw error;
        removePartialCopy(path);
        await sleep(FIRST_RETRY_WAIT_MS * 2 ** (attempt - 1));
      }
    }
  }
  database.prepare('VACUUM INTO ?').run(path);
}

const SQLITE_OK = 0;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

function isSourceBusy(error: unknown): boolean {
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code !== 'ERR_SQLITE_ERROR' || typeof errcode !== 'number') return false;
  const primary = errcode & 0xff;
  return primary === SQLITE_OK || primary === SQLITE_BUSY || primary === SQLITE_LOCKED;
}

function removePartialCopy(path: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}
