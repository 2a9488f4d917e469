import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errorCode, usageError } from '../errors/index.ts';
import { listStoreBackups, storeRestoreAdvice } from './store-backups.ts';
import type { WorkspacePaths } from './workspace-paths.ts';
import { QUEUE_PROJECTION_FILES } from './write-projections.ts';

/**
 * Refuses a workspace whose store is missing or empty (0 bytes) while its projections, reports or
 * backups show that it had a history: opening it would silently start a new, empty store and the
 * history would be gone. Nothing is written. A store that is there, or a workspace with no trace
 * of history (new, or only initialised), passes.
 */
export function assertStoreNotLost(paths: WorkspacePaths): void {
  const state = storeFileState(paths.database);
  if (state === 'present') return;
  const history = historyEvidence(paths);
  if (history.length === 0) return;
  throw usageError(
    'STORE_MISSING',
    `the store .loki/loki.db is ${state === 'missing' ? 'missing' : 'empty (0 bytes)'}, but this workspace has a history (${history.join(', ')}): ` +
      `Loki does not start a new, empty store over it, and nothing was changed. ${storeRestoreAdvice(paths, false)}`,
    { database: paths.database, history },
  );
}

function storeFileState(path: string): 'present' | 'missing' | 'empty' {
  try {
    return statSync(path).size === 0 ? 'empty' : 'present';
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    throw error;
  }
}

const queueFileSchema = z.object({ tasks: z.array(z.unknown()) });
const orchestratorStateSchema = z.object({ runId: z.string().nullable() });

/** What under `.loki/` says the store had content, in words; empty when nothing does. */
function historyEvidence(paths: WorkspacePaths): string[] {
  const evidence: string[] = [];
  const tasks = QUEUE_PROJECTION_FILES.reduce(
    (count, { file }) =>
      count + (readProjection(join(paths.queueDirectory, file), queueFileSchema)?.tasks.length ?? 0),
    0,
  );
  if (tasks > 0) evidence.push(`${tasks} task(s) in .loki/queue/`);
  const runId = readProjection(paths.orchestratorStateFile, orchestratorStateSchema)?.runId ?? null;
  if (runId !== null) evidence.push(`run ${runId} in .loki/state/orchestrator.json`);
  const reports = existsSync(paths.reportsDirectory) ? readdirSync(paths.reportsDirectory).length : 0;
  if (reports > 0) evidence.push(`${reports} file(s) in .loki/artifacts/reports/`);
  const backups = listStoreBackups(paths).length;
  if (backups > 0) evidence.push(`${backups} backup(s) in .loki/artifacts/backups/`);
  return evidence;
}

/**
 * A projection file, or null when it is absent or not what Loki writes: a projection is only a
 * clue here, and one that cannot be read is no evidence either way.
 */
function readProjection<T>(path: string, schema: z.ZodType<T>): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
