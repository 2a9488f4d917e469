import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LokiError } from '../errors/index.ts';
import type { Store, StoreSnapshot, Task, TaskStatus } from '../store/index.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { buildStatusReport, formatStatusText, type StatusReportOptions } from './status-report.ts';
import type { WorkspacePaths } from './workspace-paths.ts';

/** Queue projection files and the statuses each one lists. */
export const QUEUE_PROJECTION_FILES: ReadonlyArray<{ file: string; statuses: readonly TaskStatus[] }> = [
  { file: 'pending.json', statuses: ['pending'] },
  { file: 'in-progress.json', statuses: ['in_progress'] },
  { file: 'completed.json', statuses: ['completed'] },
  { file: 'failed.json', statuses: ['failed'] },
  { file: 'dead-letter.json', statuses: ['dead_letter'] },
  { file: 'cancelled.json', statuses: ['cancelled'] },
];

const LOCK_STALE_MILLISECONDS = 30_000;
const LOCK_WAIT_MILLISECONDS = 10_000;
/** A writer writes its pid into the lock it just created within microseconds; an empty one older than this never will. */
const UNWRITTEN_LOCK_MILLISECONDS = 2_000;

function isoOrNull(epochMilliseconds: number | null): string | null {
  return epochMilliseconds === null ? null : new Date(epochMilliseconds).toISOString();
}

/** A task in the queue files, with the seed's field names. */
export function projectTask(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    type: task.type,
    title: task.title,
    status: task.status,
    priority: task.priority,
    dependencies: task.dependencies,
    payload: task.payload,
    createdAt: isoOrNull(task.createdAt),
    availableAt: isoOrNull(task.availableAt),
    claimedBy: task.claimedBy,
    claimedAt: isoOrNull(task.claimedAt),
    leaseExpiresAt: isoOrNull(task.leaseExpiresAt),
    timeout: task.timeoutSeconds,
    retries: task.failureCount,
    maxRetries: task.maxAttempts,
    backoffSeconds: task.backoffSeconds,
    lastError: task.lastError,
    completedAt: isoOrNull(task.completedAt),
    result: task.result,
  };
}

export interface ProjectionOptions extends Pick<StatusReportOptions, 'isRunAlive'> {
  /**
   * With it, STATUS.txt lists the processes working on the store by machine (as `loki status`
   * does), their heartbeats judged at `now`; `localMachine` is this machine's name.
   */
  workersSeenAt?: { now: number; localMachine?: string };
}

/**
 * Rewrites every projection from ONE consistent snapshot of the store. Projections are for
 * people and tools; nothing reads them back as truth.
 *
 * Writers in different processes are serialised by a lock file, and each writes a snapshot taken
 * after it holds the lock: so the last writer always leaves files that agree with each other and
 * with the store as of its snapshot.
 */
export async function writeProjections(
  store: Store,
  paths: WorkspacePaths,
  options: ProjectionOptions = {},
): Promise<StoreSnapshot> {
  mkdirSync(paths.queueDirectory, { recursive: true });
  mkdirSync(paths.stateDirectory, { recursive: true });
  const releaseLock = await acquireLock(paths.projectionLock);
  try {
    const snapshot = await store.readSnapshot();
    const tasksByStatus = new Map<TaskStatus, Task[]>();
    for (const task of snapshot.tasks) {
      const list = tasksByStatus.get(task.status) ?? [];
      list.push(task);
      tasksByStatus.set(task.status, list);
    }
    for (const { file, statuses } of QUEUE_PROJECTION_FILES) {
      const tasks = statuses.flatMap((status) => tasksByStatus.get(status) ?? []).map(projectTask);
      writeFileAtomic(join(paths.queueDirectory, file), `${JSON.stringify({ tasks }, null, 2)}\n`);
    }
    const report = buildStatusReport(paths.root, snapshot, {
      ...(options.isRunAlive === undefined ? {} : { isRunAlive: options.isRunAlive }),
      ...(options.workersSeenAt === undefined
        ? {}
        : { workers: { records: await store.listWorkers(), ...options.workersSeenAt } }),
    });
    const orchestratorState = {
      version: 1,
      runId: report.run?.id ?? null,
      currentPhase: report.phase,
      runStatus: report.run?.status ?? null,
      startedAt: report.run?.startedAt ?? null,
      lastUpdate: report.lastUpdate,
      lastEventSequence: report.lastEventSequence,
      metrics: {
        tasksTotal: report.queue.total,
        tasksPending: report.queue.pending,
        tasksInProgress: report.queue.inProgress,
        tasksCompleted: report.queue.completed,
        tasksFailed: report.queue.failed,
        tasksDeadLetter: report.queue.deadLetter,
        tasksCancelled: report.queue.cancelled,
        activeAgents: report.agents.active,
      },
    };
    writeFileAtomic(paths.orchestratorStateFile, `${JSON.stringify(orchestratorState, null, 2)}\n`);
    writeFileAtomic(paths.statusFile, formatStatusText(report));
    return snapshot;
  } finally {
    releaseLock();
  }
}

// Lock staleness compares file modification times, which are wall-clock: the injected clock
// (which tests move by hand) must not be used here.
async function acquireLock(lockPath: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MILLISECONDS;
  for (;;) {
    try {
      const descriptor = openSync(lockPath, 'wx');
      try {
        writeSync(descriptor, String(process.pid));
      } finally {
        closeSync(descriptor);
      }
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    // A writer killed while holding the lock leaves it behind: stale at once when its process is
    // gone, and in any case after a while (a lock from another machine sharing the directory).
    const age = lockAge(lockPath);
    if (age !== null && (age > LOCK_STALE_MILLISECONDS || isHolderGone(lockPath, age))) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new LokiError(
        `could not refresh the projections: ${lockPath} is held by another process; if no loki process is running, delete it`,
        { code: 'PROJECTION_LOCK_TIMEOUT', category: 'internal' },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * True when the lock names a process of this machine that no longer exists, or names none long
 * after it was created (its writer was killed between creating it and writing its pid).
 */
function isHolderGone(lockPath: string, ageMilliseconds: number): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lockPath, 'utf8').trim());
  } catch {
    return false;
  }
  // An empty lock younger than that is one being written this instant: not stale.
  if (!Number.isSafeInteger(pid) || pid <= 0) return ageMilliseconds > UNWRITTEN_LOCK_MILLISECONDS;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'ESRCH';
  }
}

function lockAge(lockPath: string): number | null {
  try {
    return Math.max(0, Date.now() - statSync(lockPath).mtimeMs);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
}
