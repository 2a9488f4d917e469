import { readdir, readFile } from 'node:fs/promises';
import { errorCode } from '../../errors/index.ts';

/** The environment variable every process of one CLI run inherits, so its descendants can be found. */
export const PROCESS_TAG_VARIABLE = 'LOKI_AGENT_PROCESS_TAG';

export interface RunProcess {
  pid: number;
  /** Clock ticks since boot; with the pid it names one process even if the pid is reused. */
  startTime: string;
}

/** Errors that mean "that process is gone, or is not ours to read" while /proc is scanned. */
const UNREADABLE_PROCESS_CODES = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

/**
 * The live processes that belong to one run: members of its process group, and every process
 * whose environment carries the run's tag. The tag catches what the group misses: agent CLIs run
 * tool commands in their own session (Claude Code's Bash tool does), and once the CLI dies those
 * are re-parented, so neither the group nor the parent chain leads to them any more.
 *
 * It reads /proc. Without /proc (macOS) only the group can be seen: while any member lives, the
 * list holds one entry whose pid is the negated group id, which signals the whole group.
 * Without a group (a CLI that an SDK spawned in Loki's own group) only the tag counts.
 */
export async function listRunProcesses(processGroupId: number | null, tag: string): Promise<RunProcess[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch (error) {
    if (errorCode(error) === 'ENOENT')
      return processGroupId !== null && isGroupAlive(processGroupId)
        ? [{ pid: -processGroupId, startTime: 'group' }]
        : [];
    throw error;
  }
  const needle = Buffer.from(`${PROCESS_TAG_VARIABLE}=${tag}\0`);
  const found = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .map((entry) => readRunProcess(Number(entry), processGroupId, needle)),
  );
  return found.filter((member): member is RunProcess => member !== null);
}

async function readRunProcess(
  pid: number,
  processGroupId: number | null,
  needle: Buffer,
): Promise<RunProcess | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or ")": split after the last one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, , groupId] = fields;
    const startTime = fields[19];
    // A zombie is already dead; it only waits for its parent to collect its exit status.
    if (state === undefined || state === 'Z' || startTime === undefined) return null;
    if (Number(groupId) === processGroupId) return { pid, startTime };
    const environment = await readFile(`/proc/${pid}/environ`);
    return environment.includes(needle) ? { pid, startTime } : null;
  } catch (error) {
    if (UNREADABLE_PROCESS_CODES.has(errorCode(error) ?? '')) return null;
    throw error;
  }
}

function isGroupAlive(processGroupId: number): boolean {
  try {
    process.kill(-processGroupId, 0);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    throw error;
  }
}
