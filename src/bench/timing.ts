import { spawnSync } from 'node:child_process';

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Wall time of `body` in milliseconds, with its result. */
export async function timeAsync<T>(body: () => Promise<T>): Promise<{ milliseconds: number; result: T }> {
  const start = performance.now();
  const result = await body();
  return { milliseconds: performance.now() - start, result };
}

export interface CommandTiming {
  command: string;
  runs: number;
  medianMilliseconds: number;
  samplesMilliseconds: number[];
}

/**
 * Runs `node <script> <arguments>` `runs` times (after one untimed warm-up run, so that the first
 * sample does not pay for a cold file cache) and returns the wall times. A run that exits non-zero
 * throws: timing a command that fails would measure the wrong thing.
 */
export function timeNodeCommand(
  scriptArguments: readonly string[],
  options: { cwd: string; runs: number; label: string },
): CommandTiming {
  const samplesMilliseconds: number[] = [];
  for (let run = 0; run <= options.runs; run += 1) {
    const start = performance.now();
    const child = spawnSync(process.execPath, scriptArguments, { cwd: options.cwd, encoding: 'utf8' });
    const milliseconds = performance.now() - start;
    if (child.error !== undefined) throw child.error;
    if (child.status !== 0) {
      throw new Error(
        `${options.label} exited with ${child.status ?? child.signal}: ${child.stderr.trim() || child.stdout.trim()}`,
      );
    }
    if (run > 0) samplesMilliseconds.push(roundTo(milliseconds, 1));
  }
  return {
    command: options.label,
    runs: options.runs,
    medianMilliseconds: roundTo(median(samplesMilliseconds), 1),
    samplesMilliseconds,
  };
}
