import { readRunLock, type RunLockOwner } from '../orchestrator/index.ts';
import type { Run } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';

/**
 * Where the workspace's latest run stands for whoever wants to steer it: `live` (its process holds
 * the run lock), `ended` (stopped, completed or failed), `gone` (the store says running but its
 * process is dead: a crash, kill -9, a forced stop), or `none` (no run yet).
 */
export type RunLiveness =
  | { kind: 'none' }
  | { kind: 'live'; run: Run; owner: RunLockOwner }
  | { kind: 'ended'; run: Run }
  | { kind: 'gone'; run: Run };

/** The lock is read before the store: a run that ends in between reads as ended, not gone. */
export async function findLiveRun(workspace: Workspace): Promise<RunLiveness> {
  const lock = readRunLock(workspace.paths.runLockFile);
  const run = await workspace.store.getLatestRun();
  if (run === null) return { kind: 'none' };
  if (lock !== null && lock.isAlive && lock.owner.runId === run.id)
    return { kind: 'live', run, owner: lock.owner };
  return run.status === 'running' ? { kind: 'gone', run } : { kind: 'ended', run };
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
