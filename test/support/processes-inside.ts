import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface LiveProcess {
  pid: number;
  commandLine: string;
  workingDirectory: string;
}

/** Live processes (other than this one) whose command line or working directory is inside `directory`. */
export function processesInside(directory: string): LiveProcess[] {
  const found: LiveProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let commandLine: string;
    let workingDirectory = '';
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      // A zombie has an empty command line and is already dead (only not yet reaped).
      if (commandLine === '') continue;
    } catch (error) {
      if (isVanishedOrForeign(error)) continue;
      throw error;
    }
    try {
      workingDirectory = readlinkSync(`/proc/${pid}/cwd`);
    } catch (error) {
      // Another user's process, or gone meanwhile: the command line decides.
      if (!isVanishedOrForeign(error)) throw error;
    }
    const isInside = (path: string) => path === directory || path.startsWith(`${directory}/`);
    if (commandLine.includes(directory) || isInside(workingDirectory)) {
      found.push({ pid, commandLine, workingDirectory });
    }
  }
  return found;
}

/**
 * Polls until no process is inside `directory` or `graceMilliseconds` have passed; returns the
 * survivors (empty when all are gone). Children of a killed process may need a moment to notice.
 */
export async function waitForNoProcessesInside(
  directory: string,
  graceMilliseconds: number,
): Promise<LiveProcess[]> {
  const deadline = Date.now() + graceMilliseconds;
  for (;;) {
    const survivors = processesInside(directory);
    if (survivors.length === 0 || Date.now() > deadline) return survivors;
    await delay(100);
  }
}

/** A process that exited between listing /proc and reading it, or one this user may not inspect. */
function isVanishedOrForeign(error: unknown): boolean {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM';
}

/** Cleanup after a failed test: kill -9 of every process still inside `directory`, so none leaks into the next test. */
export function killProcessesInside(directory: string): void {
  for (const leftover of processesInside(directory)) {
    try {
      process.kill(leftover.pid, 'SIGKILL');
    } catch (error) {
      // ESRCH: it exited since the scan.
      if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
    }
  }
}
