import { readRunLock, type RunLockOwner } from '../orchestrator/index.ts';
import type { Run } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';

/**
 * Where the workspace's latest run stands for whoever wants to steer it: `live` (its process holds
 * the run lock; `run` is null while a new run's row is not written yet), `ended` (stopped,
 * completed or failed), `gone` (the store says running but its process is dead: a crash, kill -9,
 * a forced stop), or `none` (no run yet).
 */
export type RunLiveness =
  | { kind: 'none' }
  | { kind: 'live'; runId: string; run: Run | null; owner: RunLockOwner }
  | { kind: 'ended'; run: Run }
  | { kind: 'gone'; run: Run };

/** The lock is read before the store: a run that ends in between reads as ended, not gone. */
export async function findLiveRun(workspace: Workspace): Promise<RunLiveness> {
  const lock = readRunLock(workspace.paths.runLockFile);
  const latest = await workspace.store.getLatestRun();
  if (lock !== null && lock.isAlive) {
    const { runId } = lock.owner;
    return { kind: 'live', runId, run: latest?.id === runId ? latest : null, owner: lock.owner };
  }
  if (latest === null) return { kind: 'none' };
  return latest.status === 'running' ? { kind: 'gone', run: latest } : { kind: 'ended', run: latest };
}

/** True while the process that held the lock as `owner` still holds it. */
export function isStillHeldBy(workspace: Workspace, owner: RunLockOwner): boolean {
  const lock = readRunLock(workspace.paths.runLockFile);
  return (
    lock !== null &&
    lock.isAlive &&
    lock.owner.pid === owner.pid &&
    lock.owner.runId === owner.runId &&
    lock.owner.startedAt === owner.startedAt
  );
}
