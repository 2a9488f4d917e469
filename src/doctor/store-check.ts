import { existsSync } from 'node:fs';
import { isLokiError } from '../errors/index.ts';
import { checkSqliteStore } from '../store/index.ts';
import {
  assertStoreNotLost,
  listStoreBackups,
  storeRestoreAdvice,
  workspacePaths,
} from '../workspace/index.ts';
import type { DoctorCheck } from './run-doctor.ts';

/**
 * The workspace's store: there when the workspace has a history, and sound by SQLite's full
 * integrity check (read-only: safe while a run uses it); with the newest backup named. Null when
 * `root` has no workspace or no store yet: there is nothing to check.
 */
export function storeCheck(root: string): DoctorCheck | null {
  const paths = workspacePaths(root);
  if (!existsSync(paths.lokiDirectory)) return null;
  const base = { name: 'store', isRequired: true };
  try {
    assertStoreNotLost(paths);
  } catch (error) {
    if (!isLokiError(error) || error.code !== 'STORE_MISSING') throw error;
    return {
      ...base,
      status: 'missing',
      detail: '.loki/loki.db is missing or empty, but the workspace has a history',
      fix: storeRestoreAdvice(paths, false),
    };
  }
  if (!existsSync(paths.database)) return null;
  const integrity = checkSqliteStore(paths.database);
  if (!integrity.isSound) {
    return {
      ...base,
      status: 'warning',
      detail: `.loki/loki.db ${integrity.detail}`,
      fix: storeRestoreAdvice(paths, true),
    };
  }
  const [newest] = listStoreBackups(paths);
  const backup =
    newest === undefined
      ? 'no backup yet (a run backs its store up as it goes and when it ends)'
      : `newest backup .loki/artifacts/backups/${newest}`;
  return { ...base, status: 'ok', detail: `.loki/loki.db ${integrity.detail}; ${backup}` };
}
