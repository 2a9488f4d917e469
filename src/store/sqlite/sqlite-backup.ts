import * as sqlite from 'node:sqlite';

/** `backup()` of node:sqlite exists from Node 22.16 and 23.8; Loki supports Node 22.13 and newer. */
const onlineBackup: typeof sqlite.backup | undefined =
  typeof sqlite.backup === 'function' ? sqlite.backup : undefined;

/** Pages copied per step: small steps let the store's own writes go on between them. */
const PAGES_PER_STEP = 256;

/**
 * Copies `database` to `path` while it stays in use. SQLite's online backup API copies it in steps
 * off the main thread; a write by another connection meanwhile makes it start over, so the copy is
 * always one consistent state of the database. Where node:sqlite has no `backup()`, `VACUUM INTO`
 * writes the same consistent copy in one statement. `path` must not exist yet.
 */
export async function backUpSqliteDatabase(database: sqlite.DatabaseSync, path: string): Promise<void> {
  if (onlineBackup !== undefined) {
    await onlineBackup(database, path, { rate: PAGES_PER_STEP });
    return;
  }
  database.prepare('VACUUM INTO ?').run(path);
}
