import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/events/index.ts';
import { buildSandboxEnvironment, createRedactor, PlainRunner } from '../src/sandbox/index.ts';
import {
  ALL_TOOLS,
  createAgentToolset,
  editFileTool,
  executeTool,
  gitDiffTool,
  gitStatusTool,
  globTool,
  grepTool,
  listDirTool,
  readFileTool,
  taskCompleteTool,
  type ToolContext,
  toolsForNames,
  writeFileTool,
} from '../src/tools/index.ts';

let root: string;
let worktree: string;
let events: NewEvent[];
let context: ToolContext;

function git(...gitArguments: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Loki Test', '-c', 'user.email=loki@example.com', ...gitArguments],
    {
      cwd: worktree,
      encoding: 'utf8',
    },
  );
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'loki-tools-')));
  worktree = join(root, 'worktree');
  await mkdir(join(worktree, 'src'), { recursive: true });
  await writeFile(join(worktree, 'README.md'), '# Demo\n');
  await writeFile(
    join(worktree, 'src', 'math.ts'),
    'export function add(a: number, b: number) {\n  return a + b;\n}\n',
  );
  git('init', '--quiet', '--initial-branch=main');
  git('add', '.');
  git('commit', '--quiet', '-m', 'initial');
  events = [];
  context = {
    worktree,
    runner: new PlainRunner(),
    emit: (event) => events.push(event),
    outputDirectory: join(root, 'tool-output'),
    commandTimeoutMilliseconds: 20_000,
    allowNetwork: false,
    env: buildSandboxEnvironment(process.env),
    redactor: createRedactor({ extraSecrets: ['hunter2-secret-value'] }),
    signal: new AbortController().signal,
    taskId: 'task-1',
    runId: 'run-1',
  };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('file tools', () => {
  it('read_file numbers lines and reads a line range', async () => {
    const whole = await executeTool(readFileTool, { path: 'src/math.ts' }, context);
    expect(whole).toMatchObject({ isError: false, isTaskComplete: false, fullOutputPath: null });
    expect(whole.output).toBe(
      '     1\texport function add(a: number, b: number) {\n     2\t  return a + b;\n     3\t}',
    );
    const part = await executeTool(
      readFileTool,
      { path: 'src/math.ts', start_line: 2, end_line: 2 },
      context,
    );
    expect(part.output).toBe('     2\t  return a + b;\n(lines 2-2 of 3)');
  });

  it('read_file refuses binary files and explains missing ones', async () => {
    await writeFile(join(worktree, 'image.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01]));
    const binary = await executeTool(readFileTool, { path: 'image.bin' }, context);
    expect(binary.isError).toBe(true);
    expect(binary.output).toMatch(/image\.bin is a binary file/);
    const missing = await executeTool(readFileTool, { path: 'src/nope.ts' }, context);
    expect(missing.output).toMatch(/File not found: src\/nope\.ts\. Use list_dir or glob/);
  });

  it('write_file creates parent directories and reports what it did', async () => {
    const result = await executeTool(
      writeFileTool,
      { path: 'src/deep/new/file.ts', content: 'a\nb\n' },
      context,
    );
    expect(result.output).toBe('Created src/deep/new/file.ts (4 bytes, 3 lines).');
    expect(await readFile(join(worktree, 'src/deep/new/file.ts'), 'utf8')).toBe('a\nb\n');
    const again = await executeTool(writeFileTool, { path: 'src/deep/new/file.ts', content: 'c' }, context);
    expect(again.output).toMatch(/^Overwrote/);
  });

  it('edit_file replaces exactly one match, refuses zero or several, or replaces all when asked', async () => {
    const edited = await executeTool(
      editFileTool,
      { path: 'src/math.ts', old_string: 'return a + b;', new_string: 'return a + b + $&;' },
      context,
    );
    expect(edited.output).toBe('Replaced 1 occurrence in src/math.ts.');
    expect(await readFile(join(worktree, 'src/math.ts'), 'utf8')).toContain('return a + b + $&;');

    const missing = await executeTool(
      editFileTool,
      { path: 'src/math.ts', old_string: 'nope', new_string: 'x' },
      context,
    );
    expect(missing).toMatchObject({ isError: true });
    expect(missing.output).toMatch(/not found in src\/math\.ts/);

    const ambiguous = await executeTool(
      editFileTool,
      { path: 'src/math.ts', old_string: 'a', new_string: 'z' },
      context,
    );
    expect(ambiguous.output).toMatch(/occurs \d+ times .* set replace_all to true/);

    const all = await executeTool(
      editFileTool,
      { path: 'src/math.ts', old_string: 'number', new_string: 'bigint', replace_all: true },
      context,
    );
    expect(all.output).toBe('Replaced 2 occurrences in src/math.ts.');
  });

  it('list_dir lists entries with directories and symlinks marked', async () => {
    await symlink('README.md', join(worktree, 'readme-link'));
    const result = await executeTool(listDirTool, {}, context);
    expect(result.output).toBe('.git/\nREADME.md\nreadme-link -> README.md\nsrc/');
  });

  it('glob finds files and skips .git and node_modules', async () => {
    await mkdir(join(worktree, 'node_modules', 'dep'), { recursive: true });
    await writeFile(join(worktree, 'node_modules', 'dep', 'index.ts'), '');
    await writeFile(join(worktree, 'src', 'math.test.ts'), '');
    const result = await executeTool(globTool, { pattern: '**/*.ts' }, context);
    expect(result.output).toBe('src/math.test.ts\nsrc/math.ts');
    const scoped = await executeTool(globTool, { pattern: '*.test.ts', path: 'src' }, context);
    expect(scoped.output).toBe('src/math.test.ts');
    const outside = await executeTool(globTool, { pattern: '../*' }, context);
    expect(outside.output).toMatch(/must be relative and must not contain `\.\.`/);
  });

  it('grep reports path and line numbers, filters by glob and caps results', async () => {
    await writeFile(join(worktree, 'src', 'other.js'), 'const a = add(1, 2);\n');
    const result = await executeTool(grepTool, { pattern: 'add\\(\\d' }, context);
    expect(result.output).toBe('src/other.js:1: const a = add(1, 2);');
    const filtered = await executeTool(grepTool, { pattern: 'add', glob: '*.ts' }, context);
    expect(filtered.output).toBe('src/math.ts:1: export function add(a: number, b: number) {');
    const capped = await executeTool(grepTool, { pattern: '.', max_results: 2 }, context);
    expect(capped.output.split('\n')).toHaveLength(3);
    expect(capped.output).toMatch(/stopped at 2 matches/);
    const invalid = await executeTool(grepTool, { pattern: 'add(' }, context);
    expect(invalid.output).toMatch(/Invalid regular expression/);
  });

  it('git_status and git_diff show the working tree changes', async () => {
    await writeFile(join(worktree, 'README.md'), '# Demo\nMore.\n');
    await writeFile(join(worktree, 'new.txt'), 'new\n');
    const status = await executeTool(gitStatusTool, {}, context);
    expect(status.isError).toBe(false);
    expect(status.output).toMatch(/## main\n M README.md\n\?\? new.txt/);
    const diff = await executeTool(gitDiffTool, { path: 'README.md' }, context);
    expect(diff.output).toMatch(/\+More\./);
    const staged = await executeTool(gitDiffTool, { staged: true }, context);
    expect(staged.output).toBe('No staged changes.');
  });

  it('task_complete acknowledges and marks the result so the loop can stop', async () => {
    const result = await executeTool(
      taskCompleteTool,
      { summary: 'Added add()', files_changed: ['src/math.ts'], tests_run: ['npm test'] },
      context,
    );
    expect(result).toMatchObject({
      isError: false,
      isTaskComplete: true,
      completion: { summary: 'Added add()', filesChanged: ['src/math.ts'], testsRun: ['npm test'] },
    });
  });
});

describe('executeTool', () => {
  it('returns a readable error for invalid input instead of throwing', async () => {
    const result = await executeTool(editFileTool, { path: 42, old_string: '', extra: true }, context);
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Invalid input for edit_file:/);
    expect(result.output).toMatch(/- path: .*expected string/);
    expect(result.output).toMatch(/- old_string: /);
    expect(result.output).toMatch(/- new_string: /);
    expect(result.output).toMatch(/Unrecognized key.*extra/);
    expect(result.output).toMatch(/edit_file takes: path, old_string, new_string, replace_all\./);
  });

  it('emits tool_called and tool_result with the ids of the run and task, and redacts secrets', async () => {
    await writeFile(join(worktree, '.env'), 'PASSWORD=hunter2-secret-value\n');
    const result = await executeTool(readFileTool, { path: '.env' }, context, { toolCallId: 'call-7' });
    expect(result.output).toBe('     1\tPASSWORD=[REDACTED]');
    await executeTool(writeFileTool, { path: 'x.txt', content: 'hunter2-secret-value' }, context);
    expect(events.map((event) => event.type)).toEqual([
      'agent.tool_called',
      'agent.tool_result',
      'agent.tool_called',
      'agent.tool_result',
    ]);
    expect(events[0]).toEqual({
      type: 'agent.tool_called',
      runId: 'run-1',
      taskId: 'task-1',
      data: { toolCallId: 'call-7', toolName: 'read_file', input: { path: '.env' } },
    });
    expect(events[1]).toMatchObject({
      type: 'agent.tool_result',
      data: {
        toolCallId: 'call-7',
        isError: false,
        output: '     1\tPASSWORD=[REDACTED]',
        fullOutputPath: null,
      },
    });
    expect(JSON.stringify(events)).not.toContain('hunter2-secret-value');
  });

  it('truncates large output to head and tail and keeps the full text in a file', async () => {
    const lines = Array.from({ length: 5_000 }, (_, index) => `line ${index + 1} ${'x'.repeat(20)}`);
    await writeFile(join(worktree, 'big.log'), `${lines.join('\n')}\n`);
    const result = await executeTool(readFileTool, { path: 'big.log' }, context, { toolCallId: 'call-big' });
    expect(result.fullOutputPath).toBe(join(root, 'tool-output', 'call-big-read_file.txt'));
    expect(result.output.length).toBeLessThan(30_500);
    expect(result.output).toMatch(/^ {5}1\tline 1 x/);
    expect(result.output).toMatch(/5000\tline 5000 x+$/);
    expect(result.output).toContain(`the full output`);
    expect(result.output).toContain(result.fullOutputPath ?? 'missing');
    const full = await readFile(result.fullOutputPath ?? '', 'utf8');
    expect(full.split('\n')).toHaveLength(5_000);
    const resultEvent = events.find((event) => event.type === 'agent.tool_result');
    expect(resultEvent?.data).toMatchObject({ fullOutputPath: result.fullOutputPath });
  });

  it('tells the agent loop where a cut output was kept, through the agent toolset', async () => {
    const lines = Array.from({ length: 5_000 }, (_, index) => `line ${index + 1} ${'x'.repeat(20)}`);
    await writeFile(join(worktree, 'big.log'), `${lines.join('\n')}\n`);
    const toolset = createAgentToolset([readFileTool], context);
    const big = await toolset.executeTool({
      toolCallId: 'call-big',
      toolName: 'read_file',
      input: { path: 'big.log' },
    });
    expect(big.fullOutputPath).toBe(join(root, 'tool-output', 'call-big-read_file.txt'));
    const small = await toolset.executeTool({
      toolCallId: 'call-small',
      toolName: 'read_file',
      input: { path: 'README.md' },
    });
    expect(small.fullOutputPath).toBeNull();
  });

  it('does not run a tool once the task is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await executeTool(
      writeFileTool,
      { path: 'late.txt', content: 'x' },
      { ...context, signal: controller.signal },
    );
    expect(result).toMatchObject({ isError: true });
    await expect(readFile(join(worktree, 'late.txt'))).rejects.toThrow(/ENOENT/);
  });
});

describe('tool catalogue', () => {
  it('lists every tool once and selects tools by name', () => {
    const names = ALL_TOOLS.map((tool) => tool.name);
    expect(names).toEqual([
      'read_file',
      'write_file',
      'edit_file',
      'list_dir',
      'glob',
      'grep',
      'run_command',
      'git_status',
      'git_diff',
      'task_complete',
    ]);
    expect(toolsForNames(['grep', 'read_file']).map((tool) => tool.name)).toEqual(['grep', 'read_file']);
    expect(() => toolsForNames(['read_file', 'launch_rockets'])).toThrow(/Unknown tool "launch_rockets"/);
  });
});
