import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { checkSqliteStore, SqliteStore } from '../store/index.ts';
import {
  backUpStore,
  listStoreBackups,
  scheduleStoreBackups,
  STORE_BACKUPS_KEPT,
  storeRestoreAdvice,
} from './store-backups.ts';
import { type WorkspacePaths, workspacePaths } from './workspace-paths.ts';

describe('store backups', () => {
  let directory: string;
  let paths: WorkspacePaths;
  let store: SqliteStore;
  const clock = new ManualClock(Date.parse('2025-06-01T12:00:00.000Z'));
  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'loki-store-backups-'));
    paths = workspacePaths(directory);
    store = await SqliteStore.open(paths.database, { clock });
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('keeps the newest few, named by time, each a sound database, and names the newest in the advice', async () => {
    const written: string[] = [];
    for (let backup = 0; backup < STORE_BACKUPS_KEPT + 2; backup += 1) {
      clock.advance(60_000);
      written.push((await backUpStore(store, paths, clock)) ?? '');
    }
    const kept = listStoreBackups(paths);
    expect(kept).toHaveLength(STORE_BACKUPS_KEPT);
    expect(kept[0]).toBe('loki-2025-06-01T12-05-00-000Z.db');
    expect(kept.map((name) => join(paths.backupsDirectory, name))).toEqual(written.slice(-3).reverse());
    // Nothing else is left in the folder: no partial copy under a temporary name.
    expect(readdirSync(paths.backupsDirectory).sort()).toEqual([...kept].sort());
    for (const name of kept) expect(checkSqliteStore(join(paths.backupsDirectory, name)).isSound).toBe(true);
    expect(storeRestoreAdvice(paths, true)).toContain(
      'mv .loki/loki.db .loki/loki.db.damaged && rm -f .loki/loki.db-wal .loki/loki.db-shm && cp .loki/artifacts/backups/loki-2025-06-01T12-05-00-000Z.db .loki/loki.db',
    );
  });

  it('removes the partial copy a killed process left behind', async () => {
    mkdirSync(paths.backupsDirectory, { recursive: true });
    const leftover = join(paths.backupsDirectory, '.loki-2025-06-01T11-00-00-000Z.db.999999999.tmp');
    writeFileSync(leftover, 'half a database');
    await backUpStore(store, paths, clock);
    expect(existsSync(leftover)).toBe(false);
    expect(readdirSync(paths.backupsDirectory)).toEqual(listStoreBackups(paths));
  });

  it('backs up at every interval while scheduled, and once more when finished', async () => {
    let backedUp = 0;
    let reachedFive = () => {};
    const fiveBackups = new Promise<void>((resolve) => {
      reachedFive = resolve;
    });
    const schedule = scheduleStoreBackups(store, paths, {
      clock,
      intervalMilliseconds: 10,
      onError: (error) => {
        throw error;
      },
      onBackedUp: () => {
        // Each backup gets its own name even though the manual clock stands still.
        backedUp += 1;
        if (backedUp === 5) reachedFive();
      },
    });
    await fiveBackups;
    await schedule.finish();
    expect(backedUp).toBeGreaterThanOrEqual(6);
    expect(listStoreBackups(paths)).toHaveLength(STORE_BACKUPS_KEPT);
  });
});
