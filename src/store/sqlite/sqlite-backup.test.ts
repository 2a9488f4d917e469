import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backUpSqliteDatabase } from './sqlite-backup.ts';

describe('backUpSqliteDatabase', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-backup-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('copies a database whose connection is inside a write transaction when the copy starts', async () => {
    using database = new DatabaseSync(join(directory, 'live.db'));
    database.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (value TEXT)');
    database.prepare('INSERT INTO t VALUES (?)').run('committed before');
    // The store's writes are transactions on the main thread; the online backup steps on a pool
    // thread and finds the source busy when one is open (node:sqlite rejects with "not an error").
    database.exec('BEGIN IMMEDIATE');
    database.prepare('INSERT INTO t VALUES (?)').run('committed during');
    const copyPath = join(directory, 'copy.db');
    const copying = backUpSqliteDatabase(database, copyPath);
    await sleep(100);
    database.exec('COMMIT');
    await copying;

    using copy = new DatabaseSync(copyPath, { readOnly: true });
    expect(copy.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    expect(
      copy
        .prepare('SELECT value FROM t ORDER BY rowid')
        .all()
        .map((row) => row.value),
    ).toEqual(['committed before', 'committed during']);
  });
});
