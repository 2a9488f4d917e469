import { readdir, readFile } from 'node:fs/promises';
import { errorCode } from '../errors/index.ts';

/**
 * What /proc says about live processes. Linux only: elsewhere the lists are empty and callers fall
 * back to killing the process group alone.
 */
export interface ProcessIdentity {
  pid: number;
  parentPid: number;
  processGroupId: number;
  /** Clock ticks since boot; with the pid it names one process even if the pid is reused later. */
  startTime: string;
  /** Whether it has a controlling terminal (a person's shell or editor does; what Loki spawns does not). */
  hasControllingTerminal: boolean;
}

/** Errors that mean "that process is gone" while we read /proc, not a broken system. */
const PROCESS_GONE_CODES = new Set(['ENOENT', 'ESRCH']);

export async function listLiveProcesses(): Promise<ProcessIdentity[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const identities = await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map((entry) => readProcessIdentity(Number(entry))),
  );
  return identities.filter((identity): identity is ProcessIdentity => identity !== null);
}

/** Every live process below `rootPid` (not the root itself), found by walking parent pids. */
export function findDescendants(processes: readonly ProcessIdentity[], rootPid: number): ProcessIdentity[] {
  const childrenByParent = new Map<number, ProcessIdentity[]>();
  for (const identity of processes) {
    const siblings = childrenByParent.get(identity.parentPid) ?? [];
    siblings.push(identity);
    childrenByParent.set(identity.parentPid, siblings);
  }
  const descendants: ProcessIdentity[] = [];
  const pending = [rootPid];
  for (let parentPid = pending.pop(); parentPid !== undefined; parentPid = pending.pop()) {
    for (const child of childrenByParent.get(parentPid) ?? []) {
      descendants.push(child);
      pending.push(child.pid);
    }
  }
  return descendants;
}

/** Null when the process is gone or is a zombie (it has exited and only waits to be reaped). */
export async function readProcessIdentity(pid: number): Promise<ProcessIdentity | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && PROCESS_GONE_CODES.has(code)) return null;
    throw error;
  }
  // The command name is in parentheses and may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, parentPid, processGroupId, , terminalDevice] = fields;
  const startTime = fields[19];
  if (state === undefined || state === 'Z' || state === 'X' || startTime === undefined) return null;
  return {
    pid,
    parentPid: Number(parentPid),
    processGroupId: Number(processGroupId),
    startTime,
    hasControllingTerminal: terminalDevice !== undefined && terminalDevice !== '0',
  };
}
