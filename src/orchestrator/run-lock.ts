import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname as systemHostname } from 'node:os';
import { z } from 'zod';
import { type Clock, systemClock } from '../clock/index.ts';
import { ExitCode, LokiError } from '../errors/index.ts';

/** What a run lock file holds: enough to tell whether its owner still runs, and to name it. */
export interface RunLockOwner {
  pid: number;
  runId: string;
  hostname: string;
  /** ISO 8601. */
  startedAt: string;
  /**
   * Field 22 of /proc/<pid>/stat (clock ticks after boot): a pid reused by another process has a
   * different start time. Null where /proc is not available; then only the pid is checked.
   */
  processStartTicks: number | null;
}

export interface RunLock extends Disposable {
  readonly path: string;
  readonly owner: RunLockOwner;
  /** Removes the lock file, but only while it is still this lock (never someone else's). */
  release(): void;
}

export interface AcquireRunLockOptions {
  clock?: Clock;
  /** Injected for tests; defaults to this machine's name. */
  hostname?: string;
}

const runLockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  runId: z.string().min(1),
  hostname: z.string(),
  startedAt: z.string(),
  processStartTicks: z.number().int().nonnegative().nullable(),
});

/**
 * Takes the workspace's run lock, so that a second `loki run` on a workspace with a live run
 * refuses instead of two orchestrators fighting over the same queue and worktrees.
 *
 * The file is complete the moment it appears: it is written under a temp name and hard-linked to
 * `path`, and the link fails if `path` exists. A lock whose owner is gone (the pid is dead or now
 * belongs to another process) is stale and is taken over; a corrupt lock file is stale too.
 */
export function acquireRunLock(
  path: string,
  owner: { runId: string; pid?: number },
  options: AcquireRunLockOptions = {},
): RunLock {
  const pid = owner.pid ?? process.pid;
  const lockOwner: RunLockOwner = {
    pid,
    runId: owner.runId,
    hostname: options.hostname ?? systemHostname(),
    startedAt: new Date((options.clock ?? systemClock).now()).toISOString(),
    processStartTicks: readProcessStartTicks(pid),
  };
  const temporaryPath = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporaryPath, `${JSON.stringify(lockOwner, null, 2)}\n`, { flag: 'wx' });
  try {
    // Each pass either takes the lock, refuses, or removes one stale lock; a few passes are only
    // needed when other processes race for the same stale lock.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        linkSync(temporaryPath, path);
        return createRunLock(path, lockOwner, statSync(path).ino);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const existing = readLockFile(path, lockOwner.hostname);
      if (existing.kind === 'missing') continue;
      if (existing.kind === 'valid' && existing.isAlive)
        throw runAlreadyActiveError(path, existing.owner, lockOwner.hostname);
      removeStaleLock(path, existing.inode);
    }
    throw new LokiError(
      `Could not take the run lock ${path}: other processes keep replacing it. Check for other loki processes on this workspace and try again.`,
      { code: 'RUN_LOCK_CONTENDED', category: 'internal', context: { path } },
    );
  } finally {
    rmSync(temporaryPath, { force: true });
  }
}

/** For `loki stop` and `loki status`: who holds the lock and whether it still runs. */
export function readRunLock(
  path: string,
  options: { hostname?: string } = {},
): { owner: RunLockOwner; isAlive: boolean } | null {
  const existing = readLockFile(path, options.hostname ?? systemHostname());
  return existing.kind === 'valid' ? { owner: existing.owner, isAlive: existing.isAlive } : null;
}

function createRunLock(path: string, owner: RunLockOwner, inode: number): RunLock {
  let isReleased = false;
  const release = (): void => {
    if (isReleased) return;
    isReleased = true;
    const current = readLockFile(path, owner.hostname);
    if (current.kind !== 'valid' || current.inode !== inode || !isSameOwner(current.owner, owner)) return;
    try {
      // unlinkSync, not rmSync: Node 24's rmSync reports a read-only file system without an error code.
      unlinkSync(path);
    } catch (error) {
      // Gone already; or a .loki/ that turned read-only keeps it, and its dead owner makes it stale.
      if (!UNWRITABLE_ERRORS.has(errorCode(error) ?? '')) throw error;
    }
  };
  return { path, owner, release, [Symbol.dispose]: release };
}

const UNWRITABLE_ERRORS: ReadonlySet<string> = new Set(['ENOENT', 'EROFS', 'EACCES', 'EPERM']);

type LockFileState =
  | { kind: 'missing' }
  | { kind: 'corrupt'; inode: number }
  | { kind: 'valid'; inode: number; owner: RunLockOwner; isAlive: boolean };

function readLockFile(path: string, localHostname: string): LockFileState {
  let text: string;
  let inode: number;
  try {
    inode = statSync(path).ino;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  const parsed = runLockOwnerSchema.safeParse(parseJson(text));
  if (!parsed.success) return { kind: 'corrupt', inode };
  return { kind: 'valid', inode, owner: parsed.data, isAlive: isOwnerAlive(parsed.data, localHostname) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Moves the stale lock aside, then checks that what moved is the file judged stale. Between the
 * read and the rename another process may have removed it and taken the lock; its fresh lock is
 * then put back, and the next pass sees a live owner.
 */
function removeStaleLock(path: string, staleInode: number): void {
  const asidePath = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(path, asidePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  try {
    if (statSync(asidePath).ino !== staleInode) {
      try {
        linkSync(asidePath, path);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
    }
  } finally {
    rmSync(asidePath, { force: true });
  }
}

/**
 * A lock from another machine (a shared workspace) is treated as alive: its pid means nothing
 * here, and taking over a live run's lock would be far worse than asking the user to stop it.
 */
function isOwnerAlive(owner: RunLockOwner, localHostname: string): boolean {
  if (owner.hostname !== localHostname) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if (errorCode(error) === 'ESRCH') return false;
    if (errorCode(error) !== 'EPERM') throw error;
  }
  const stat = readProcessStat(owner.pid);
  if (stat === null) return !isProcAvailable();
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.processStartTicks === null || stat.startTicks === owner.processStartTicks;
}

function readProcessStartTicks(pid: number): number | null {
  return readProcessStat(pid)?.startTicks ?? null;
}

function readProcessStat(pid: number): { state: string; startTicks: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw error;
  }
  // The command name (field 2) is in parentheses and may contain spaces and parentheses; the
  // fields after it start at field 3 (state), so field 22 (start time) is at index 19.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = Number(fields[19]);
  if (state === undefined || !Number.isSafeInteger(startTicks)) return null;
  return { state, startTicks };
}

function isProcAvailable(): boolean {
  try {
    statSync('/proc/self/stat');
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function isSameOwner(left: RunLockOwner, right: RunLockOwner): boolean {
  return (
    left.pid === right.pid &&
    left.runId === right.runId &&
    left.hostname === right.hostname &&
    left.startedAt === right.startedAt
  );
}

function runAlreadyActiveError(path: string, owner: RunLockOwner, localHostname: string): LokiError {
  const where = owner.hostname === localHostname ? '' : ` on host ${owner.hostname}`;
  return new LokiError(
    `Another loki run is active in this workspace: run ${owner.runId} (pid ${owner.pid}${where}, started ${owner.startedAt}). ` +
      `Run \`loki stop\` from this workspace to end it, or wait for it to finish, then try again.`,
    {
      code: 'RUN_ALREADY_ACTIVE',
      category: 'user',
      exitCode: ExitCode.usage,
      context: { path, pid: owner.pid, runId: owner.runId, hostname: owner.hostname },
    },
  );
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}
