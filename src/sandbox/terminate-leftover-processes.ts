import { readFile, readlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { errorCode } from '../errors/index.ts';
import { findDescendants, listLiveProcesses, type ProcessIdentity } from './process-tree.ts';
import { processSurvivedError } from './sandbox-errors.ts';

export interface TerminateLeftoverProcessesOptions {
  /** One directory, absolute, in every spelling a process may use for it (as given, symlinks resolved). */
  directories: readonly string[];
  /** How long the leftovers may take to disappear after SIGKILL. */
  killDeadlineMilliseconds: number;
}

const POLL_INTERVAL_MILLISECONDS = 20;

/** Errors that mean "that process is gone, or is not ours to inspect" while /proc is read. */
const UNREADABLE_PROCESS_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

/**
 * Ends the processes a dead Loki process left running in a directory of its own (the task
 * worktrees), before the next process removes or reuses it. Returns the processes it ended.
 *
 * Why there can be any although every sandboxed command runs with bubblewrap's --die-with-parent:
 * bubblewrap clones the sandbox's init and only then arms PR_SET_PDEATHSIG, once in itself and once,
 * much later, in that init. Its init first blocks on an eventfd until bubblewrap has reported the
 * init's pid on --info-fd and lets it go on. If Loki dies in between (kill -9 of its process
 * group), bubblewrap is killed by its own death signal or by SIGPIPE on the info pipe, and its init,
 * which has no death signal yet, waits on that eventfd for ever: a process with bubblewrap's command
 * line, its cwd in the worktree, that no signal of Loki's will ever reach. If Loki dies a little
 * later, while the init sets up its mounts, the init arms its death signal after its parent is
 * already gone (so it never fires); the lifeline watcher (see buildBubblewrapArguments) then ends
 * the command as soon as it starts, and until it does, the sandbox is one more leftover here.
 * Nothing outside bubblewrap can close those windows, so the next run sweeps up after them; this
 * also ends what the plain runner's commands (no death signal at all) left running.
 *
 * A leftover is a process whose working directory or one of whose arguments lies inside the
 * directory, that is not this process, an ancestor or a descendant of it, and that has no
 * controlling terminal: everything Loki starts runs in a session of its own without one
 * (`detached: true`, bubblewrap's --new-session), while a person's shell or editor opened in a
 * worktree has one and is left alone. Leftovers get SIGKILL at once, as --die-with-parent would
 * have sent them: a sandbox stuck in its setup is the init of its PID namespace, which ignores
 * every other signal from outside.
 *
 * The caller MUST hold the workspace's run lock (no live Loki run uses the directory) and have no
 * worker of its own in it. Throws SANDBOX_PROCESS_SURVIVED when some outlive the deadline.
 */
export async function terminateLeftoverProcesses(
  options: TerminateLeftoverProcessesOptions,
): Promise<ProcessIdentity[]> {
  const deadline = performance.now() + options.killDeadlineMilliseconds;
  const ended = new Map<string, ProcessIdentity>();
  // Processes of another user: Loki's own would be this user's, so they are not leftovers of it.
  const notOurs = new Set<number>();
  // Scanned again until none is found: a leftover shell may fork once more before its SIGKILL lands.
  for (;;) {
    const leftovers = (await findLeftoverProcesses(options.directories)).filter(
      (identity) => !notOurs.has(identity.pid),
    );
    if (leftovers.length === 0) return [...ended.values()];
    if (performance.now() > deadline) throw processSurvivedError(leftovers.map((identity) => identity.pid));
    for (const identity of leftovers) {
      if (killProcess(identity.pid)) ended.set(`${identity.pid}:${identity.startTime}`, identity);
      else notOurs.add(identity.pid);
    }
    await delay(POLL_INTERVAL_MILLISECONDS);
  }
}

async function findLeftoverProcesses(directories: readonly string[]): Promise<ProcessIdentity[]> {
  const live = await listLiveProcesses();
  const ownTree = new Set([
    process.pid,
    ...findAncestors(live, process.pid),
    ...findDescendants(live, process.pid).map((identity) => identity.pid),
  ]);
  const candidates = live.filter(
    (identity) => !ownTree.has(identity.pid) && !identity.hasControllingTerminal,
  );
  const isInside = await Promise.all(
    candidates.map((identity) => isWorkingInside(identity.pid, directories)),
  );
  return candidates.filter((_, index) => isInside[index] === true);
}

function findAncestors(processes: readonly ProcessIdentity[], pid: number): number[] {
  const parentOf = new Map(processes.map((identity) => [identity.pid, identity.parentPid]));
  const ancestors: number[] = [];
  for (let parent = parentOf.get(pid); parent !== undefined && parent > 0; parent = parentOf.get(parent)) {
    if (ancestors.includes(parent)) break;
    ancestors.push(parent);
  }
  return ancestors;
}

async function isWorkingInside(pid: number, directories: readonly string[]): Promise<boolean> {
  const isInside = (path: string) =>
    directories.some((directory) => path === directory || path.startsWith(`${directory}/`));
  const workingDirectory = await readProcessFile(pid, () => readlink(`/proc/${pid}/cwd`));
  // The kernel marks a removed directory so: a later run may already have deleted the worktree.
  if (workingDirectory !== null && isInside(workingDirectory.replace(/ \(deleted\)$/, ''))) return true;
  const commandLine = await readProcessFile(pid, () => readFile(`/proc/${pid}/cmdline`, 'utf8'));
  // An argument may name the path itself or carry it after an `=` (--option=/path).
  return (commandLine ?? '')
    .split('\0')
    .some((argument) => isInside(argument) || isInside(argument.slice(argument.indexOf('=') + 1)));
}

/** Null when the process is gone or belongs to another user. */
async function readProcessFile(pid: number, read: () => Promise<string>): Promise<string | null> {
  try {
    return await read();
  } catch (error) {
    if (UNREADABLE_PROCESS_CODES.has(errorCode(error) ?? '')) return null;
    throw new Error(`reading /proc/${pid} failed`, { cause: error });
  }
}

/** False when the process belongs to another user (EPERM); gone already counts as ended. */
function killProcess(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return true;
    if (errorCode(error) === 'EPERM') return false;
    throw error;
  }
}
