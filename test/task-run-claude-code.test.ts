import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

describe('loki task run --provider claude-code (real Claude Code binary, fake Anthropic API)', () => {
  let api: ClaudeCodeFakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('lets Claude Code do the work in the worktree, then verifies and checkpoints it', async () => {
    using workspace = new TempWorkspace('loki-task-claude-');
    await using home = await createClaudeCodeHome();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    api = await startClaudeCodeFakeApi();
    api.enqueue(
      fakeReply.toolCall('Bash', {
        command: 'echo "hello from claude" > hello.txt',
        description: 'Write the file',
      }),
      fakeReply.text('Created hello.txt.'),
    );
    const environment = home.environment(api);
    const result = await loki(
      workspace,
      [
        'task',
        'run',
        'Create hello.txt',
        '--provider',
        'claude-code',
        '--verify',
        'grep -q "hello from claude" hello.txt',
      ],
      { env: { ...environment, PATH: `${dirname(CLAUDE_CODE_EXECUTABLE)}:${environment.PATH ?? ''}` } },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('verify `grep -q "hello from claude" hello.txt`: passed');
    expect(result.exitCode).toBe(0);
    const branch = result.stdout.match(/on (loki\/task-\w+)\./)?.[1] ?? '';
    expect(git(workspace.root, 'show', `${branch}:hello.txt`)).toBe('hello from claude');
    expect(git(workspace.root, 'log', '-1', '--format=%s', branch)).toMatch(
      /^\[Loki\] eng-backend-task-\w+: Create hello.txt$/,
    );
  });
});
