import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import {
  access,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/events/index.ts';
import {
  BubblewrapRunner,
  buildSandboxEnvironment,
  type CommandRunner,
  createRedactor,
  PlainRunner,
} from '../src/sandbox/index.ts';
import {
  editFileTool,
  executeTool,
  globTool,
  grepTool,
  listDirTool,
  readFileTool,
  runCommandTool,
  type ToolContext,
  writeFileTool,
} from '../src/tools/index.ts';

let root: string;
let worktree: string;
let outside: string;
let events: NewEvent[];
let context: ToolContext;

function createContext(runner: CommandRunner, overrides: Partial<ToolContext> = {}): ToolContext {
  const env = buildSandboxEnvironment(process.env, { overrides: { SERVICE_TOKEN: 'tok-1234567890-abcdef' } });
  return {
    worktree,
    runner,
    emit: (event) => events.push(event),
    outputDirectory: join(root, 'tool-output'),
    commandTimeoutMilliseconds: 20_000,
    allowNetwork: false,
    env,
    redactor: createRedactor({ env }),
    signal: new AbortController().signal,
    taskId: 'task-1',
    runId: 'run-1',
    ...overrides,
  };
}

function refusals(): { toolName: string; reason: string; detail: string }[] {
  return events.flatMap((event) => (event.type === 'sandbox.refused' ? [event.data] : []));
}

/** Command lines of live processes containing `marker`. */
async function processesWithMarker(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch((error: unknown) => {
      // The process ended between readdir and readFile.
      if (
        (error as NodeJS.ErrnoException).code === 'ENOENT' ||
        (error as NodeJS.ErrnoException).code === 'ESRCH'
      ) {
        return '';
      }
      throw error;
    });
    if (commandLine.includes(marker)) found.push(commandLine.replaceAll('\0', ' '));
  }
  return found;
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'loki-tool-boundaries-')));
  worktree = join(root, 'worktree');
  outside = join(root, 'outside');
  await mkdir(worktree);
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'outside secret\n');
  execFileSync('git', ['init', '--quiet'], { cwd: worktree });
  events = [];
  context = createContext(new PlainRunner());
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('path confinement', () => {
  it.each([
    ['../../etc/passwd', 'path_escape'],
    ['/etc/passwd', 'path_escape'],
    ['src/../../outside/secret.txt', 'path_escape'],
  ])('refuses to read %s and records a %s event', async (path, reason) => {
    const result = await executeTool(readFileTool, { path }, context);
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Refused: .* is outside the worktree\. Use a path inside the worktree/);
    expect(result.output).not.toMatch(/root:x:0/);
    expect(refusals()).toEqual([{ toolName: 'read_file', reason, detail: result.output }]);
    expect(events.at(-1)).toMatchObject({ type: 'agent.tool_result', data: { isError: true } });
  });

  it('refuses to read through a symlink to / inside the worktree', async () => {
    await symlink('/', join(worktree, 'root'));
    const result = await executeTool(readFileTool, { path: 'root/etc/passwd' }, context);
    expect(result.output).toMatch(/resolves through a symlink to \/etc\/passwd, outside the worktree/);
    expect(refusals()).toMatchObject([{ toolName: 'read_file', reason: 'symlink_escape' }]);

    const listed = await executeTool(listDirTool, { path: 'root' }, context);
    expect(listed.isError).toBe(true);
    const globbed = await executeTool(globTool, { pattern: 'root/etc/pass*' }, context);
    expect(globbed.output).toMatch(/^No files match/);
    expect(refusals().map((refusal) => refusal.reason)).toEqual(['symlink_escape', 'symlink_escape']);
  });

  it('refuses to write through a symlinked directory that points outside', async () => {
    await symlink(outside, join(worktree, 'linked'));
    const result = await executeTool(writeFileTool, { path: 'linked/planted.txt', content: 'x' }, context);
    expect(result.isError).toBe(true);
    expect(refusals()).toMatchObject([{ toolName: 'write_file', reason: 'symlink_escape' }]);
    await expect(access(join(outside, 'planted.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses to edit a symlinked file outside and to write through a dangling symlink', async () => {
    await symlink(join(outside, 'secret.txt'), join(worktree, 'secret-link'));
    await symlink(join(outside, 'not-yet.txt'), join(worktree, 'dangling'));
    const edited = await executeTool(
      editFileTool,
      { path: 'secret-link', old_string: 'outside', new_string: 'changed' },
      context,
    );
    const written = await executeTool(writeFileTool, { path: 'dangling', content: 'x' }, context);
    expect([edited.isError, written.isError]).toEqual([true, true]);
    expect(refusals().map((refusal) => refusal.reason)).toEqual(['symlink_escape', 'symlink_escape']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('outside secret\n');
    await expect(access(join(outside, 'not-yet.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses writes into .git but allows reading it', async () => {
    const written = await executeTool(
      writeFileTool,
      { path: '.git/hooks/pre-commit', content: 'evil' },
      context,
    );
    expect(written.output).toMatch(/is inside \.git.*managed by the harness/);
    expect(refusals()).toMatchObject([{ reason: 'git_directory' }]);
    const read = await executeTool(readFileTool, { path: '.git/HEAD' }, context);
    expect(read.isError).toBe(false);
  });

  it('accepts absolute paths that are inside the worktree', async () => {
    const result = await executeTool(
      writeFileTool,
      { path: join(worktree, 'abs.txt'), content: 'ok' },
      context,
    );
    expect(result.output).toBe('Created abs.txt (2 bytes, 1 lines).');
    const searched = await executeTool(grepTool, { pattern: 'secret', path: outside }, context);
    expect(searched.isError).toBe(true);
    expect(refusals()).toMatchObject([{ toolName: 'grep', reason: 'path_escape' }]);
  });
});

const bubblewrapPath = (process.env.PATH ?? '')
  .split(':')
  .filter((directory) => directory.startsWith('/'))
  .map((directory) => join(directory, 'bwrap'))
  .find((candidate) => existsSync(candidate));
const runners: [string, () => CommandRunner][] = [['plain', () => new PlainRunner()]];
if (bubblewrapPath !== undefined) {
  runners.push(['bubblewrap', () => new BubblewrapRunner({ bubblewrapPath })]);
}

describe.each(runners)('run_command with the %s runner', (runnerName, createRunner) => {
  beforeEach(() => {
    context = createContext(createRunner());
  });

  it('runs a command in the worktree and reports its exit code and output', async () => {
    const result = await executeTool(
      runCommandTool,
      { command: 'echo made > made.txt && cat made.txt && exit 3' },
      context,
    );
    expect(result.isError).toBe(false);
    expect(result.output).toMatch(/^exit code 3 \(\d+ ms\)\n\[stdout\]\nmade\n$/);
  });

  it('kills a command at its timeout with every process it started, and records it', async () => {
    const seconds = `300.${randomInt(100_000, 999_999)}`;
    const result = await executeTool(
      runCommandTool,
      { command: `sleep ${seconds} & sleep ${seconds}; wait`, timeout_seconds: 0.5 },
      context,
    );
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Timed out: the command exceeded its 0.5 s timeout/);
    expect(refusals()).toMatchObject([{ toolName: 'run_command', reason: 'timeout' }]);
    expect(await processesWithMarker(seconds)).toEqual([]);
  });

  it('caps a requested timeout at the task limit', async () => {
    const result = await executeTool(
      runCommandTool,
      { command: 'sleep 30', timeout_seconds: 600 },
      { ...context, commandTimeoutMilliseconds: 300 },
    );
    expect(result.output).toMatch(/^\(timeout capped at the task limit of 0.3 s\)\nTimed out/);
  });

  it.each([
    ['rm -rf /', 'rm-root'],
    ['git push --force origin main', 'git-force-push'],
    ['echo pwned > /etc/motd', 'redirect-outside-workspace'],
  ])('refuses %s before running it', async (command, ruleId) => {
    let runs = 0;
    const countingRunner: CommandRunner = {
      kind: context.runner.kind,
      run: (request) => {
        runs += 1;
        return context.runner.run(request);
      },
    };
    const result = await executeTool(runCommandTool, { command }, { ...context, runner: countingRunner });
    expect(result.isError).toBe(true);
    expect(result.output).toContain(`Command refused by sandbox rule "${ruleId}"`);
    expect(result.output).toMatch(/Instead: /);
    expect(refusals()).toMatchObject([{ toolName: 'run_command', reason: 'command_denied' }]);
    expect(runs).toBe(0);
  });

  it('redacts secrets from command output, the result and every event', async () => {
    const result = await executeTool(runCommandTool, { command: 'echo "token is $SERVICE_TOKEN"' }, context);
    expect(result.output).toContain('token is [REDACTED]');
    expect(JSON.stringify(events)).not.toContain('tok-1234567890-abcdef');
  });

  it.skipIf(runnerName !== 'bubblewrap')(
    'cannot write outside the worktree or reach the network',
    async () => {
      const server = createServer((_request, response) => response.end('reachable'));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const address = server.address();
        const port = address !== null && typeof address === 'object' ? address.port : 0;
        const result = await executeTool(
          runCommandTool,
          {
            command:
              `touch ${join(outside, 'planted.txt')}; ` +
              `"${process.execPath}" -e "fetch('http://127.0.0.1:${port}/').then(() => console.log('NETWORK_REACHED'), (e) => console.log('NETWORK_REFUSED', e.cause?.code))"`,
          },
          context,
        );
        expect(result.output).toMatch(/Read-only file system|No such file or directory/);
        expect(result.output).toContain('NETWORK_REFUSED ECONNREFUSED');
        expect(result.output).not.toContain('NETWORK_REACHED');
        await expect(access(join(outside, 'planted.txt'))).rejects.toThrow(/ENOENT/);
        expect(events.at(-1)).toMatchObject({ type: 'agent.tool_result', data: { output: result.output } });
      } finally {
        server.close();
        await once(server, 'close');
      }
    },
  );
});
