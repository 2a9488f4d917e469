import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const FLOOD_SCRIPT = join(import.meta.dirname, 'line-flood.ts');
/** About 4 MB: far more than a pipe or socket buffer holds. */
const LINES = 4_000;
/** How long the reader stays away once the child floods, so that the pipe fills up. */
const READER_AWAY_MILLISECONDS = 500;

describe('writeLine', () => {
  it('waits for a full non-blocking pipe instead of failing with EAGAIN, and loses no line', async () => {
    const child = spawn(process.execPath, [FLOOD_SCRIPT, String(LINES)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let standardError = '';
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // The reader starts only after the child has begun writing and had time to fill the pipe, or
    // once the child has exited (which, before the fix, it did with EAGAIN).
    child.stdout.pause();
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        standardError += chunk;
        if (standardError.includes('flooding')) setTimeout(resolve, READER_AWAY_MILLISECONDS);
      });
      child.once('exit', () => resolve());
    });
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout });
    reader.on('line', (line) => lines.push(line));
    const code = await exited;

    expect(code, standardError).toBe(0);
    expect(lines).toHaveLength(LINES + 1);
    expect(lines.slice(0, -1).map((line) => Number(line.split(' ')[1]))).toEqual(
      Array.from({ length: LINES }, (_, index) => index + 1),
    );
    expect(lines.at(-1)).toBe('done');
  });
});
