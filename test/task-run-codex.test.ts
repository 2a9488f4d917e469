import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import { codexEvents } from './fakes/codex-events.ts';
import { createFakeCodex } from './fakes/codex-fake-cli.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

function codexTurn(threadId: string, content: string) {
  return {
    exitCode: 0,
    writeFiles: { 'hello.txt': content },
    lines: [
      codexEvents.threadStarted(threadId),
      codexEvents.turnStarted(),
      codexEvents.fileChange('item_0', [{ path: 'hello.txt', kind: 'add' }]),
      codexEvents.agentMessage('item_1', 'Wrote hello.txt.'),
      codexEvents.turnCompleted({ input: 500, cached: 0, output: 20 }),
    ],
  };
}

describe('loki task run --provider codex (fake codex CLI printing real-shaped JSONL)', () => {
  it('resumes the same thread with the verification failure, then verifies and checkpoints', async () => {
    using workspace = new TempWorkspace('loki-task-codex-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using codex = await createFakeCodex([
      codexTurn('thread-7', 'wrong\n'),
      codexTurn('thread-7', 'hello\n'),
    ]);
    const result = await loki(
      workspace,
      ['task', 'run', 'Create hello.txt', '--provider', 'codex', '--verify', 'grep -q hello hello.txt'],
      { env: { PATH: `${dirname(codex.executablePath)}:${process.env.PATH ?? ''}` } },
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('FAILED (exit 1)');
    expect(result.stdout).toMatch(/Verified after 2 attempt/);
    const invocations = await codex.invocations();
    expect(invocations).toHaveLength(2);
    expect(invocations[0]?.argv).toContain('--json');
    // The second round continues the thread, told what the verification said.
    expect(invocations[1]?.argv.join(' ')).toMatch(/resume thread-7/);
    expect(invocations[1]?.argv.join(' ')).toContain('VERIFICATION FAILED');
    const branch = result.stdout.match(/on (loki\/task-\w+)\./)?.[1] ?? '';
    expect(
      execFileSync('git', ['show', `${branch}:hello.txt`], { cwd: workspace.root, encoding: 'utf8' }),
    ).toBe('hello\n');
    // Two rounds of one agent session: the agent started once.
    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    const started = (await opened.store.listEvents()).filter((event) => event.type === 'agent.started');
    expect(started.map((event) => event.data)).toEqual([
      { agentType: 'eng-backend', runtime: 'codex', provider: 'codex', model: 'codex default' },
    ]);
  });
});
