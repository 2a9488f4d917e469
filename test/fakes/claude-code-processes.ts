import { readdir, readFile, readlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

export interface ObservedProcess {
  pid: number;
  commandLine: string;
  workingDirectory: string;
}

/**
 * Live processes whose working directory is `directory` or below it: every process an agent CLI
 * starts in a task's worktree, including tool commands in their own session. Linux (/proc).
 */
export async function listProcessesIn(directory: string): Promise<ObservedProcess[]> {
  const entries = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const found = await Promise.all(entries.map((entry) => observe(Number(entry))));
  return found.filter(
    (process): process is ObservedProcess =>
      process !== null &&
      (process.workingDirectory === directory || process.workingDirectory.startsWith(`${directory}/`)),
  );
}

async function observe(pid: number): Promise<ObservedProcess | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return null;
    const workingDirectory = await readlink(`/proc/${pid}/cwd`);
    const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
    return { pid, commandLine, workingDirectory };
  } catch (error) {
    // The process ended while we looked: it is not alive, which is all this list reports.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES') return null;
    throw error;
  }
}

/** Polls until `check` returns a value other than undefined, or fails after the deadline. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined>,
  timeoutMilliseconds = 15_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMilliseconds;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMilliseconds} ms waiting for ${description}`);
    await delay(25);
  }
}
