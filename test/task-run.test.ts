import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openWorkspace } from '../src/workspace/index.ts';
import { systemClock } from '../src/clock/index.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const writeHello = (content: string) => ({
  toolCalls: [{ toolName: 'write_file', input: { path: 'hello.txt', content } }],
});
const complete = {
  toolCalls: [
    {
      toolName: 'task_complete',
      input: { summary: 'hello.txt written', files_changed: ['hello.txt'], tests_run: [] },
    },
  ],
};

interface TaskRunJson {
  taskId: string;
  outcome: string;
  attempts: number;
  branch: string;
  checkpointCommit: string | null;
}

describe('loki task run (scripted model, real worktree, real verification)', () => {
  let workspace: TempWorkspace;
  beforeEach(async () => {
    workspace = new TempWorkspace('loki-task-run-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    return () => workspace[Symbol.dispose]();
  });

  function script(steps: unknown[]): string {
    writeFileSync(join(workspace.root, 'script.json'), JSON.stringify(steps));
    return 'script.json';
  }

  it('writes files through the tools, passes verification, and checkpoints on the task branch', async () => {
    const path = script([writeHello('hello world\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Create hello.txt',
      '--provider',
      'scripted',
      '--script',
      path,
      '--verify',
      'grep -q "hello world" hello.txt',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const summary = JSON.parse(
      lines.slice(lines.findIndex((line) => line === '{')).join('\n'),
    ) as TaskRunJson;
    expect(summary).toMatchObject({ outcome: 'verified', attempts: 1 });
    expect(git(workspace.root, 'log', '-1', '--format=%s', summary.branch)).toBe(
      `[Loki] eng-backend-${summary.taskId}: Create hello.txt`,
    );
    expect(git(workspace.root, 'show', `${summary.branch}:hello.txt`)).toBe('hello world');
    // The worktree is removed; main is untouched.
    expect(git(workspace.root, 'worktree', 'list').split('\n')).toHaveLength(1);

    const completed = JSON.parse(readFileSync(join(workspace.root, '.loki/queue/completed.json'), 'utf8'));
    expect(completed.tasks.map((task: { id: string }) => task.id)).toEqual([summary.taskId]);
    const continuity = readFileSync(join(workspace.root, '.loki/CONTINUITY.md'), 'utf8');
    expect(continuity).toContain(`${summary.taskId} (eng-backend): Create hello.txt`);

    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    const types = (await opened.store.listEvents({ taskId: summary.taskId })).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'agent.started',
        'agent.tool_called',
        'agent.tool_result',
        'usage.recorded',
        'verification.ran',
      ]),
    );
    expect(types.at(-1)).toBe('task.completed');
  });

  it('feeds a failed verification back, records the lesson, and succeeds on the retry', async () => {
    const path = script([writeHello('wrong\n'), complete, writeHello('hello world\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Create hello.txt',
      '--provider',
      'scripted',
      '--script',
      path,
      '--verify',
      'grep -q "hello world" hello.txt',
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('FAILED (exit 1)');
    expect(result.stdout).toMatch(/Verified after 2 attempt/);
    const continuity = readFileSync(join(workspace.root, '.loki/CONTINUITY.md'), 'utf8');
    expect(continuity).toMatch(
      /## Mistakes & Learnings\n\n- task-\w+ attempt 1: verification `grep -q "hello world" hello.txt` failed/,
    );
  });

  it('rolls back and exits 3 when verification keeps failing', async () => {
    const path = script([writeHello('wrong\n'), complete, writeHello('still wrong\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Create hello.txt',
      '--provider',
      'scripted',
      '--script',
      path,
      '--verify',
      'grep -q "hello world" hello.txt',
      '--max-attempts',
      '2',
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/Not verified after 2 attempt/);
    const status = parseJsonOutput<{ queue: Record<string, number> }>(
      await loki(workspace, ['status', '--json']),
    );
    expect(status.queue).toMatchObject({ completed: 0, deadLetter: 1 });
  });

  it("stores --verify where the orchestrator reads a task's verify commands", async () => {
    const path = script([writeHello('hello world\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Create hello.txt',
      '--provider',
      'scripted',
      '--script',
      path,
      '--verify',
      'test -f hello.txt',
      '--json',
    ]);
    expect(result.exitCode).toBe(0);
    const { tasks } = parseJsonOutput<{ tasks: { payload: unknown }[] }>(
      await loki(workspace, ['queue', 'list', '--json']),
    );
    expect(tasks.map((task) => task.payload)).toEqual([{ verifyCommands: ['test -f hello.txt'] }]);
  });

  it("verifies a task without --verify with the project's gates", async () => {
    mkdirSync(join(workspace.root, '.loki', 'specs'), { recursive: true });
    writeFileSync(
      join(workspace.root, '.loki', 'specs', 'architecture.json'),
      JSON.stringify({ verifyCommands: ['grep -q "hello world" hello.txt'] }),
    );
    const path = script([writeHello('wrong\n'), complete, writeHello('hello world\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Create hello.txt',
      '--provider',
      'scripted',
      '--script',
      path,
    ]);
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.stdout).toContain('verify `grep -q "hello world" hello.txt`: FAILED (exit 1)');
    expect(result.stdout).toMatch(/Verified after 2 attempt/);
  });

  it('says the work is not proven (exit 3) when neither --verify nor project gates verify it', async () => {
    const path = script([writeHello('hello world\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Create hello.txt',
      '--provider',
      'scripted',
      '--script',
      path,
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/Not proven: nothing verifies this task/);
    expect(result.stdout).toContain('--verify');
  });

  it('takes the provider from the configuration (-c provider=…, loki.yaml, LOKI_PROVIDER)', async () => {
    // An absolute script path works as well as a relative one.
    const path = join(workspace.root, script([writeHello('hello world\n'), complete]));
    const result = await loki(workspace, [
      '-c',
      'provider=scripted',
      'task',
      'run',
      'Create hello.txt',
      '--script',
      path,
      '--verify',
      'test -f hello.txt',
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('with scripted (scripted)');
  });

  it('gives an agent only the tools its type allows: a reviewer cannot write files', async () => {
    const path = script([writeHello('hello world\n'), complete]);
    const result = await loki(workspace, [
      'task',
      'run',
      'Review the code',
      '--type',
      'review-code',
      '--provider',
      'scripted',
      '--script',
      path,
      '--verify',
      'test -f hello.txt',
      '--max-attempts',
      '1',
    ]);
    expect(result.stdout).toMatch(/✗ unknown tool "write_file"; this agent has: read_file, /);
    expect(result.exitCode).toBe(3);
  });

  it('refuses the scripted provider without a script, and an unknown provider, with exit 2', async () => {
    const noScript = await loki(workspace, ['task', 'run', 'x', '--provider', 'scripted']);
    expect(noScript.exitCode).toBe(2);
    expect(noScript.stderr).toMatch(/needs --script/);
    const badType = await loki(workspace, [
      'task',
      'run',
      'x',
      '--type',
      'frontend',
      '--provider',
      'scripted',
    ]);
    expect(badType.exitCode).toBe(2);
    expect(badType.stderr).toMatch(/unknown agent type "frontend"; did you mean eng-frontend/);
    const unknown = await loki(workspace, ['task', 'run', 'x', '--provider', 'gemini']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/gemini/);
  });

  it('says which providers exist and points at loki demo when none is configured', async () => {
    const result = await loki(workspace, ['task', 'run', 'x'], { env: { PATH: '/nonexistent' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/loki demo/);
  });
});
