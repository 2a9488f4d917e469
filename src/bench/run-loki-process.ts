import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface LokiProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMilliseconds: number;
  /** Peak resident set of the loki process itself (VmHWM), children (git, sandboxed commands) not included. */
  peakRssMegabytes: number | null;
  /** CPU seconds of the loki process itself and of its waited-for children, last sample before exit. */
  cpuSeconds: { self: number; children: number } | null;
}

const SAMPLE_MILLISECONDS = 50;

/**
 * Runs `node <args>` as a real process in `cwd`, collecting its output and, on Linux, sampling
 * /proc/<pid> for its peak RSS and CPU time (a process's own figures vanish when it exits).
 */
export function runLokiProcess(
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<LokiProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let peakKilobytes: number | null = null;
    let cpuSeconds: LokiProcessResult['cpuSeconds'] = null;
    const sample = () => {
      if (child.pid === undefined || !existsSync(`/proc/${child.pid}/status`)) return;
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const highWater = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
        if (highWater !== undefined) peakKilobytes = Math.max(peakKilobytes ?? 0, Number(highWater));
        cpuSeconds = readCpuSeconds(readFileSync(`/proc/${child.pid}/stat`, 'utf8')) ?? cpuSeconds;
      } catch (error) {
        // ENOENT/ESRCH: the process exited between the check and the read; the last sample stands.
        if (!(
          error instanceof Error &&
          'code' in error &&
          (error.code === 'ENOENT' || error.code === 'ESRCH')
        ))
          throw error;
      }
    };
    const sampler = setInterval(sample, SAMPLE_MILLISECONDS);
    child.on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearInterval(sampler);
      resolve({
        exitCode,
        signal,
        stdout,
        stderr,
        wallMilliseconds: performance.now() - started,
        peakRssMegabytes: peakKilobytes === null ? null : Math.round((peakKilobytes / 1024) * 10) / 10,
        cpuSeconds,
      });
    });
  });
}

/** utime, stime, cutime, cstime are fields 14–17 of /proc/<pid>/stat, in clock ticks (100 per second on Linux). */
function readCpuSeconds(stat: string): { self: number; children: number } | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0, so field n is index n − 3.
  const ticks = [11, 12, 13, 14].map((index) => Number(fields[index]));
  if (ticks.some((value) => !Number.isFinite(value))) return null;
  const [userTicks = 0, systemTicks = 0, childUserTicks = 0, childSystemTicks = 0] = ticks;
  return { self: (userTicks + systemTicks) / 100, children: (childUserTicks + childSystemTicks) / 100 };
}
