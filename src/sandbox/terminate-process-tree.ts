import { setTimeout as delay } from 'node:timers/promises';
import { errorCode } from '../errors/index.ts';
import { findDescendants, listLiveProcesses, type ProcessIdentity } from './process-tree.ts';

export interface TerminateProcessTreeOptions {
  /** The pid of the process we spawned with `detached: true`, which is also its process group id. */
  processGroupId: number;
  /** Between SIGTERM and SIGKILL. */
  graceMilliseconds: number;
  /** How long to wait after SIGKILL for the processes to disappear. */
  killDeadlineMilliseconds: number;
}

const POLL_INTERVAL_MILLISECONDS = 20;

/**
 * Ends every process that belongs to a command: its process group, and every descendant found in
 * /proc — the latter catches processes that moved to their own group or session (bubblewrap's
 * `--new-session`, `setsid`). SIGTERM first so tools can clean up, SIGKILL after the grace period.
 * Returns the processes that are still alive after the kill deadline (normally none).
 */
export async function terminateProcessTree(options: TerminateProcessTreeOptions): Promise<ProcessIdentity[]> {
  const { processGroupId } = options;
  let tree = collectTree(await listLiveProcesses(), processGroupId, []);
  signalTree(processGroupId, tree, 'SIGTERM');
  let survivors = await waitForTreeToExit(processGroupId, tree, options.graceMilliseconds);
  if (survivors.length === 0) return [];

  // Processes may have forked during the grace period: look again before the final blow.
  tree = collectTree(await listLiveProcesses(), processGroupId, survivors);
  signalTree(processGroupId, tree, 'SIGKILL');
  survivors = await waitForTreeToExit(processGroupId, tree, options.killDeadlineMilliseconds);
  return survivors;
}

/** True when some process (not a zombie) is still in the group. */
export function hasLiveGroupMembers(processGroupId: number): boolean {
  try {
    process.kill(-processGroupId, 0);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    throw error;
  }
}

function collectTree(
  processes: readonly ProcessIdentity[],
  processGroupId: number,
  known: readonly ProcessIdentity[],
): ProcessIdentity[] {
  const byPid = new Map<number, ProcessIdentity>();
  const roots = [processGroupId, ...known.map((identity) => identity.pid)];
  for (const identity of known) byPid.set(identity.pid, identity);
  for (const identity of processes) {
    if (identity.processGroupId === processGroupId || identity.pid === processGroupId) {
      byPid.set(identity.pid, identity);
      roots.push(identity.pid);
    }
  }
  for (const root of roots) {
    for (const descendant of findDescendants(processes, root)) byPid.set(descendant.pid, descendant);
  }
  return [...byPid.values()];
}

function signalTree(processGroupId: number, tree: readonly ProcessIdentity[], signal: NodeJS.Signals): void {
  sendSignal(-processGroupId, signal);
  for (const identity of tree) sendSignal(identity.pid, signal);
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // Already gone: exactly what we want.
    if (errorCode(error) !== 'ESRCH') throw error;
  }
}

async function waitForTreeToExit(
  processGroupId: number,
  tree: readonly ProcessIdentity[],
  timeoutMilliseconds: number,
): Promise<ProcessIdentity[]> {
  const deadline = performance.now() + timeoutMilliseconds;
  for (;;) {
    const live = await listLiveProcesses();
    const survivors = live.filter(
      (identity) =>
        identity.processGroupId === processGroupId ||
        tree.some((member) => member.pid === identity.pid && member.startTime === identity.startTime),
    );
    if (survivors.length === 0 || performance.now() >= deadline) return survivors;
    await delay(POLL_INTERVAL_MILLISECONDS);
  }
}
