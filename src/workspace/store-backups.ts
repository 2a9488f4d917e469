import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock/index.ts';
import type { Store } from '../store/index.ts';
import type { WorkspacePaths } from './workspace-paths.ts';

/** Backups kept in `.loki/artifacts/backups/`; older ones are removed once a new one is complete. */
export const STORE_BACKUPS_KEPT = 3;
/** How often a live run backs its store up. */
export const STORE_BACKUP_INTERVAL_MILLISECONDS = 10 * 60 * 1000;

/** `loki-<ISO 8601 time with - for :>.db`, e.g. loki-2025-06-01T12-30-00-000Z.db: sorts by time. */
const BACKUP_FILE = /^loki-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.db$/;

/** The backups' file names, newest first. */
export function listStoreBackups(paths: WorkspacePaths): string[] {
  if (!existsSync(paths.backupsDirectory)) return [];
  return readdirSync(paths.backupsDirectory)
    .filter((name) => BACKUP_FILE.test(name))
    .sort()
    .reverse();
}

/**
 * How to get the store back, as one sentence with the commands: from the newest backup when there
 * is one. `isDamaged`: the current file is kept aside instead of overwritten.
 */
export function storeRestoreAdvice(paths: WorkspacePaths, isDamaged: boolean): string {
  const [newest] = listStoreBackups(paths);
  if (newest === undefined) {
    return 'There is no backup in .loki/artifacts/backups/: restore .loki/loki.db from a backup of your own, or move .loki/ aside to start afresh (its history is then lost)';
  }
  const aside = isDamaged ? 'mv .loki/loki.db .loki/loki.db.damaged && ' : '';
  return `Restore the newest backup from .loki/artifacts/backups/ (stop any loki run first): ${aside}rm -f .loki/loki.db-wal .loki/loki.db-shm && cp .loki/artifacts/backups/${newest} .loki/loki.db`;
}

/**
 * Writes a backup of the store and removes the oldest beyond STORE_BACKUPS_KEPT. The copy is
 * written under a temporary name and renamed when complete, so a backup file is never partial.
 * Returns its path, or null for a store that cannot be backed up this way (PostgreSQL).
 */
export async function backUpStore(store: Store, paths: WorkspacePaths, clock: Clock): Promise<string | null> {
  if (store.backUpTo === undefined) return null;
  mkdirSync(paths.backupsDirectory, { recursive: true });
  removePartialBackups(paths);
  // Names sort by time; two backups within the same millisecond get consecutive ones.
  const nameAt = (time: number) => `loki-${new Date(time).toISOString().replace(/[:.]/g, '-')}.db`;
  let time = clock.now();
  while (existsSync(join(paths.backupsDirectory, nameAt(time)))) time += 1;
  const name = nameAt(time);
  const path = join(paths.backupsDirectory, name);
  const temporaryPath = join(paths.backupsDirectory, `.${name}.${process.pid}.tmp`);
  try {
    await store.backUpTo(temporaryPath);
    renameSync(temporaryPath, path);
  } finally {
    rmSync(temporaryPath, { force: true });
  }
  for (const old of listStoreBackups(paths).slice(STORE_BACKUPS_KEPT)) {
    rmSync(join(paths.backupsDirectory, old), { force: true });
  }
  return path;
}

/**
 * A process killed during a backup leaves its partial copy under a temporary name. Only the run
 * (which holds the run lock) backs up, so any other process's partial copy is such a leftover.
 */
function removePartialBackups(paths: WorkspacePaths): void {
  for (const name of readdirSync(paths.backupsDirectory)) {
    const owner = PARTIAL_BACKUP_FILE.exec(name)?.[1];
    if (owner !== undefined && Number(owner) !== process.pid) {
      rmSync(join(paths.backupsDirectory, name), { force: true });
    }
  }
}

const PARTIAL_BACKUP_FILE = /^\.loki-.*\.db\.(\d+)\.tmp$/;

export interface StoreBackupSchedule extends Disposable {
  /** Stops the schedule (a backup under way completes) and backs the store up once more. */
  finish(): Promise<void>;
  stop(): void;
}

export interface StoreBackupScheduleOptions {
  clock: Clock;
  intervalMilliseconds?: number;
  /** A failed backup does not stop the run (the store itself is fine); it is reported here. */
  onError: (error: unknown) => void;
  onBackedUp?: (path: string) => void;
}

/** Backs the store up every interval while a run goes on; one backup at a time. */
export function scheduleStoreBackups(
  store: Store,
  paths: WorkspacePaths,
  options: StoreBackupScheduleOptions,
): StoreBackupSchedule {
  let running: Promise<void> = Promise.resolve();
  let isRunning = false;
  const backUpOnce = () => {
    isRunning = true;
    running = backUpStore(store, paths, options.clock)
      .then((path) => {
        if (path !== null) options.onBackedUp?.(path);
      }, options.onError)
      .finally(() => {
        isRunning = false;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (!isRunning) void backUpOnce();
  }, options.intervalMilliseconds ?? STORE_BACKUP_INTERVAL_MILLISECONDS);
  // The schedule never keeps a finished process alive.
  timer.unref();
  const stop = () => clearInterval(timer);
  return {
    stop,
    finish: async () => {
      stop();
      await running;
      await backUpOnce();
    },
    [Symbol.dispose]: stop,
  };
}
