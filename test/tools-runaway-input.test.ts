import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSandboxEnvironment, createRedactor, PlainRunner } from '../src/sandbox/index.ts';
import {
  editFileTool,
  executeTool,
  globTool,
  grepTool,
  listDirTool,
  readFileTool,
  type Tool,
  type ToolContext,
  writeFileTool,
} from '../src/tools/index.ts';

/**
 * Model-given input must never stall the process: a pattern that backtracks for ever, a glob that
 * expands to millions of alternatives, a named pipe or a device where a file was expected. Every
 * one ends its tool call with an error the model can act on, while the event loop goes on serving
 * the other agents (checked by a timer that keeps ticking), and a cancelled task stops the search.
 */

let root: string;
let worktree: string;
let context: ToolContext;

/** `(a+)+$` against this line backtracks through 2^30 ways to split the a's: minutes of CPU. */
const CATASTROPHIC_PATTERN = '(a+)+$';
const CATASTROPHIC_LINE = `${'a'.repeat(30)}b`;
/** 2^24 alternatives once the braces are expanded. */
const EXPLODING_GLOB = '{a,b}'.repeat(24);

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'loki-tools-runaway-')));
  worktree = join(root, 'worktree');
  await mkdir(join(worktree, 'src'), { recursive: true });
  await writeFile(join(worktree, 'src', 'ok.ts'), 'export const ok = 1;\n');
  context = {
    worktree,
    runner: new PlainRunner(),
    emit: () => undefined,
    outputDirectory: join(root, 'tool-output'),
    commandTimeoutMilliseconds: 1_000,
    allowNetwork: false,
    env: buildSandboxEnvironment(process.env),
    redactor: createRedactor(),
    signal: new AbortController().signal,
    taskId: 'task-1',
    runId: 'run-1',
  };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs a tool while a 10 ms timer counts how often the event loop got to run it. */
async function executeCountingTicks(
  tool: Tool,
  input: unknown,
  toolContext: ToolContext,
  onTick: (ticks: number) => void = () => undefined,
) {
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    onTick(ticks);
  }, 10);
  try {
    const result = await executeTool(tool, input, toolContext);
    return { result, ticks };
  } finally {
    clearInterval(timer);
  }
}

describe('searches that would run for ever', () => {
  it('grep stops a catastrophic pattern at the tool timeout, names it, and the event loop keeps running', async () => {
    await writeFile(join(worktree, 'src', 'line.txt'), `${CATASTROPHIC_LINE}\n`);
    const { result, ticks } = await executeCountingTicks(
      grepTool,
      { pattern: CATASTROPHIC_PATTERN },
      context,
    );
    expect(result.isError).toBe(true);
    expect(result.output).toContain(`/${CATASTROPHIC_PATTERN}/`);
    expect(result.output).toMatch(/too slow/);
    expect(result.output).toMatch(/simpler pattern/);
    // The main thread was free while the search ran: the timer kept firing.
    expect(ticks).toBeGreaterThanOrEqual(5);
    // Afterwards grep works as before.
    const plain = await executeTool(grepTool, { pattern: 'ok' }, context);
    expect(plain.output).toBe('src/ok.ts:1: export const ok = 1;');
  }, 60_000);

  it('grep stops when the task is cancelled', async () => {
    await writeFile(join(worktree, 'src', 'line.txt'), `${CATASTROPHIC_LINE}\n`);
    const controller = new AbortController();
    // Only the abort can end this search: the timeout is far beyond it.
    const { result, ticks } = await executeCountingTicks(
      grepTool,
      { pattern: CATASTROPHIC_PATTERN },
      { ...context, commandTimeoutMilliseconds: 10 * 60 * 1000, signal: controller.signal },
      (tick) => {
        if (tick === 5) controller.abort(new Error('stopped by the user'));
      },
    );
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/stopped by the user|cancelled/i);
    expect(ticks).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('grep applies its glob filter off the main thread too', async () => {
    const { result, ticks } = await executeCountingTicks(
      grepTool,
      { pattern: 'ok', glob: EXPLODING_GLOB },
      context,
    );
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/too slow|too complex/);
    expect(ticks).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('glob stops a pattern whose braces expand to millions of alternatives', async () => {
    const { result, ticks } = await executeCountingTicks(globTool, { pattern: EXPLODING_GLOB }, context);
    expect(result.isError).toBe(true);
    expect(result.output).toContain(EXPLODING_GLOB);
    expect(result.output).toMatch(/too slow|too complex/);
    expect(result.output).toMatch(/simpler pattern/);
    expect(ticks).toBeGreaterThanOrEqual(5);
    const plain = await executeTool(globTool, { pattern: '**/*.ts' }, context);
    expect(plain.output).toBe('src/ok.ts');
  }, 60_000);
});

describe('big inputs', () => {
  it('read_file numbers at most a bounded number of lines per call and says where to go on', async () => {
    // The largest file read_file reads, all empty lines: numbering all of them would build ~90 MB.
    await writeFile(join(worktree, 'empty-lines.txt'), '\n'.repeat(10 * 1024 * 1024));
    const whole = await executeTool(readFileTool, { path: 'empty-lines.txt' }, context);
    expect(whole.isError).toBe(false);
    expect(whole.output).toMatch(
      /\(lines 1-20000 of 10485760\)\n\(read_file returns at most 20000 lines per call; continue with start_line 20001\)$/,
    );
    const part = await executeTool(
      readFileTool,
      { path: 'empty-lines.txt', start_line: 10_485_759, end_line: 10_485_760 },
      context,
    );
    expect(part.output).toBe('10485759\t\n10485760\t\n(lines 10485759-10485760 of 10485760)');
  }, 60_000);

  it('list_dir shows the first entries by name of a big directory and counts the rest', async () => {
    const names = Array.from({ length: 2_500 }, (_, index) => `f${String(2_499 - index).padStart(4, '0')}`);
    await mkdir(join(worktree, 'many'));
    for (const name of names) await writeFile(join(worktree, 'many', name), '');
    const result = await executeTool(listDirTool, { path: 'many' }, context);
    const lines = result.output.split('\n');
    expect(lines).toHaveLength(1_001);
    expect(lines.slice(0, 1_000)).toEqual([...names].sort().slice(0, 1_000));
    expect(lines.at(-1)).toBe('(1500 more entries not shown; use glob)');
  }, 60_000);
});

describe('files that are not regular files', () => {
  const refusal = /not a regular file or directory/;

  it('refuses a named pipe in every file tool instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [join(worktree, 'src', 'pipe')]);
    const calls: Array<[Tool, unknown]> = [
      [readFileTool, { path: 'src/pipe' }],
      [editFileTool, { path: 'src/pipe', old_string: 'a', new_string: 'b' }],
      [writeFileTool, { path: 'src/pipe', content: 'x' }],
      [listDirTool, { path: 'src/pipe' }],
      [grepTool, { pattern: 'x', path: 'src/pipe' }],
      [globTool, { pattern: '*', path: 'src/pipe' }],
    ];
    for (const [tool, input] of calls) {
      const result = await executeTool(tool, input, context);
      expect(result.isError, tool.name).toBe(true);
      expect(result.output, tool.name).toMatch(/src\/pipe is a named pipe \(FIFO\)/);
      expect(result.output, tool.name).toMatch(refusal);
    }
    // A search over the directory skips the pipe and finds the rest.
    const search = await executeTool(grepTool, { pattern: 'ok' }, context);
    expect(search.output).toBe('src/ok.ts:1: export const ok = 1;');
  }, 60_000);

  it('refuses a device reached through a symlink, and a device node inside the worktree', async () => {
    await symlink('/dev/zero', join(worktree, 'zero-link'));
    const throughLink = await executeTool(readFileTool, { path: 'zero-link' }, context);
    expect(throughLink.isError).toBe(true);
    expect(throughLink.output).toMatch(/outside the worktree/);

    // Only root can make a device node (a run as root with the plain runner could); skip otherwise.
    const made = spawnSync('mknod', [join(worktree, 'zero-device'), 'c', '1', '5']);
    if (made.status !== 0) return;
    for (const [tool, input] of [
      [readFileTool, { path: 'zero-device' }],
      [writeFileTool, { path: 'zero-device', content: 'x' }],
      [grepTool, { pattern: 'x', path: 'zero-device' }],
    ] as Array<[Tool, unknown]>) {
      const result = await executeTool(tool, input, context);
      expect(result.isError, tool.name).toBe(true);
      expect(result.output, tool.name).toMatch(/zero-device is a character device/);
      expect(result.output, tool.name).toMatch(refusal);
    }
  }, 60_000);

  it('still reads and writes regular files and lists directories', async () => {
    expect(
      (await executeTool(writeFileTool, { path: 'src/new.txt', content: 'new\n' }, context)).isError,
    ).toBe(false);
    expect(await readFile(join(worktree, 'src', 'new.txt'), 'utf8')).toBe('new\n');
    expect((await executeTool(readFileTool, { path: 'src/new.txt' }, context)).output).toBe('     1\tnew');
    expect((await executeTool(listDirTool, { path: 'src' }, context)).output).toBe('new.txt\nok.ts');
  });
});
