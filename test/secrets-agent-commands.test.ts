import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

/**
 * A secret in the environment that an agent's own command prints, into its output and into a file of
 * its work, appears nowhere: not on stdout, not in the store, not under .loki/, not in git history.
 * The values have no well-known token shape: only Loki's knowledge of the configured values can
 * catch them.
 */
function filesContaining(directory: string, text: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => readFileSync(path).includes(text));
}

async function expectNowhere(workspace: TempWorkspace, secret: string, output: string): Promise<void> {
  expect(output).not.toContain(secret);
  await using opened = await openWorkspace(workspace.root, { clock: systemClock });
  expect(JSON.stringify(await opened.store.listEvents())).not.toContain(secret);
  expect(filesContaining(join(workspace.root, '.loki'), secret)).toEqual([]);
  const history = execFileSync('git', ['log', '-p', '--all'], { cwd: workspace.root, encoding: 'utf8' });
  expect(history).not.toContain(secret);
}

describe('a secret printed by an agent’s command', () => {
  it('claude-code: its Bash prints the key and writes it to a file; the work goes back, nothing leaks', async () => {
    const secret = 'loki-claude-credential-8e41c07b92';
    using workspace = new TempWorkspace('loki-secret-claude-');
    await using home = await createClaudeCodeHome();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using api = await startClaudeCodeFakeApi();
    api.enqueue(
      fakeReply.toolCall('Bash', {
        command: 'printenv ANTHROPIC_API_KEY; printenv ANTHROPIC_API_KEY > leak.txt; echo done > work.txt',
        description: 'Look at the key',
      }),
      fakeReply.text('Wrote work.txt.'),
      fakeReply.toolCall('Bash', { command: 'rm leak.txt', description: 'Take the key out' }),
      fakeReply.text('Removed leak.txt.'),
    );
    const environment = home.environment(api, secret);
    const result = await loki(
      workspace,
      [
        'task',
        'run',
        'Write work.txt',
        '--provider',
        'claude-code',
        '--verify',
        'test -f work.txt && test ! -e leak.txt',
      ],
      { env: { ...environment, PATH: `${dirname(CLAUDE_CODE_EXECUTABLE)}:${environment.PATH ?? ''}` } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'secrets in the work, sent back to the agent: leak.txt (the value of ANTHROPIC_API_KEY)',
    );
    await expectNowhere(workspace, secret, result.stdout + result.stderr);
  }, 120_000);

  it('codex: a key its command writes into a file goes back to the agent, nothing leaks', async () => {
    const secret = 'loki-codex-credential-5b90d2e7a1';
    using workspace = new TempWorkspace('loki-secret-codex-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using api = await startFakeOpenAIServer({
      expectedApiKey: secret,
      defaultReply: { type: 'turn', text: 'Done.' },
    });
    using codexHome = new FakeCodexHome(api.baseUrl);
    const complete = {
      type: 'turn' as const,
      toolCalls: [
        {
          name: 'task_complete',
          namespace: 'mcp__loki',
          input: { summary: 'Wrote work.txt', files_changed: ['work.txt'], tests_run: [] },
        },
      ],
    };
    // Codex keeps keys out of its commands' environment, so this agent writes one it learnt elsewhere.
    api.enqueue(
      {
        type: 'turn',
        toolCalls: [
          { name: 'exec_command', input: { cmd: `echo '${secret}' | tee leak.txt; echo done > work.txt` } },
        ],
      },
      complete,
      { type: 'turn', text: 'Reported.' },
      { type: 'turn', toolCalls: [{ name: 'exec_command', input: { cmd: 'rm leak.txt' } }] },
      complete,
      { type: 'turn', text: 'Reported.' },
    );
    const result = await loki(
      workspace,
      [
        'task',
        'run',
        'Write work.txt',
        '--provider',
        'codex',
        '--verify',
        'test -f work.txt && test ! -e leak.txt',
      ],
      // OPENAI_BASE_URL: the fake API's host is what the sandbox's network policy lets Codex reach.
      { env: { CODEX_HOME: codexHome.path, OPENAI_API_KEY: secret, OPENAI_BASE_URL: api.baseUrl } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'secrets in the work, sent back to the agent: leak.txt (the value of OPENAI_API_KEY)',
    );
    await expectNowhere(workspace, secret, result.stdout + result.stderr);
  }, 120_000);
});
