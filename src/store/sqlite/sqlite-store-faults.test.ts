import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { isLokiError } from '../../errors/index.ts';
import type { NewTask } from '../task-record.ts';
import { isStoreFault } from '../store-faults.ts';
import { checkSqliteStore } from './check-sqlite-store.ts';
import { classifySqliteError } from './sqlite-faults.ts';
import { SqliteStore } from './sqlite-store.ts';

const RESTORE = 'Restore the newest backup: cp backups/loki-1.db loki.db';

function task(id: string): NewTask {
  return {
    id,
    type: 'eng-backend',
    title: id,
    description: '',
    priority: 5,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: null,
    timeoutSeconds: 60,
    maxAttempts: 3,
  };
}

/** What a statement threw, for errors SQLite itself raises. */
function thrownBy(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error('expected the statement to throw');
}

describe('SQLite store faults (real SQLite errors)', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-sqlite-faults-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));
  const context = (location: string) => ({ location, restoreAdvice: () => RESTORE });

  it('classifies a full database (SQLITE_FULL) as STORE_FULL: a one-line, non-retryable store fault', () => {
    const database = new DatabaseSync(':memory:');
    database.exec('CREATE TABLE t (value TEXT)');
    database.exec('PRAGMA max_page_count = 2');
    const full = thrownBy(() => {
      for (let row = 0; row < 100; row += 1)
        database.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(1000));
    });
    const fault = classifySqliteError(full, context('/w/.loki/loki.db'));
    expect(isStoreFault(fault)).toBe(true);
    expect(fault).toMatchObject({ code: 'STORE_FULL', exitCode: 1, isRetryable: false });
    expect((fault as Error).message).toMatch(
      /^no space left on the disk of \/w\/\.loki\/loki\.db \(.+\): .*loki resume/,
    );
    expect((fault as Error).message).not.toContain('\n');
  });

  it('classifies a write to a read-only database (SQLITE_READONLY) as STORE_READ_ONLY', () => {
    const path = join(directory, 'read-only.db');
    new DatabaseSync(path).exec('CREATE TABLE t (value TEXT)');
    const database = new DatabaseSync(path, { readOnly: true });
    const readOnly = thrownBy(() => database.exec("INSERT INTO t VALUES ('x')"));
    database.close();
    expect(classifySqliteError(readOnly, context(path))).toMatchObject({ code: 'STORE_READ_ONLY' });
  });

  it('refuses to open a file that is not a database, with the restore advice, leaving it untouched', async () => {
    const path = join(directory, 'garbage.db');
    const garbage = Buffer.alloc(16 * 1024, 'not a database ');
    writeFileSync(path, garbage);
    const error = await SqliteStore.open(path, { restoreAdvice: () => RESTORE }).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ code: 'STORE_CORRUPT' });
    expect((error as Error).message).toBe(
      `${path} is corrupt (file is not a database): Loki writes nothing more to it. ${RESTORE}`,
    );
    expect(readFileSync(path).equals(garbage)).toBe(true);
  });

  it('reports damaged pages found while reading as STORE_CORRUPT, and the integrity check finds them', async () => {
    const path = join(directory, 'damaged.db');
    {
      await using store = await SqliteStore.open(path, { clock: new ManualClock() });
      await store.insertTasks(Array.from({ length: 200 }, (_, index) => task(`task-${index}`)));
    }
    expect(checkSqliteStore(path)).toEqual({ isSound: true, detail: 'integrity ok' });
    const bytes = readFileSync(path);
    bytes.fill(0x5a, 4096, bytes.length);
    writeFileSync(path, bytes);

    const error = await SqliteStore.open(path, { restoreAdvice: () => RESTORE })
      .then((store) => store.listTasks().finally(() => store.close()))
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toMatchObject({ code: 'STORE_CORRUPT' });
    expect((error as Error).message).toContain(RESTORE);
    const integrity = checkSqliteStore(path);
    expect(integrity.isSound).toBe(false);
    expect(integrity.detail).toMatch(/^corrupt: /);
  });

  it('keeps a lock held past the busy timeout a retryable STORE_BUSY, not a fault', async () => {
    const path = join(directory, 'busy.db');
    await using store = await SqliteStore.open(path, { busyTimeoutMilliseconds: 0 });
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const error = await store.insertTasks([task('a')]).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(isLokiError(error) && error.code).toBe('STORE_BUSY');
      expect(isLokiError(error) && error.isRetryable).toBe(true);
      expect(isStoreFault(error)).toBe(false);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('backs up a store in use: the copy is complete and sound', async () => {
    const path = join(directory, 'live.db');
    await using store = await SqliteStore.open(path, { clock: new ManualClock() });
    await store.insertTasks(Array.from({ length: 50 }, (_, index) => task(`task-${index}`)));
    const copy = join(directory, 'copy.db');
    const backup = store.backUpTo(copy);
    await store.insertTasks([task('during-the-backup')]);
    await backup;

    expect(checkSqliteStore(copy)).toEqual({ isSound: true, detail: 'integrity ok' });
    await using restored = await SqliteStore.open(copy);
    expect((await restored.countTasks()).pending).toBeGreaterThanOrEqual(50);
  });
});
