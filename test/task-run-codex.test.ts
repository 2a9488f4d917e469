import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

const API_KEY = 'sk-openai-codex-test';

describe('loki task run --provider codex (real codex binary against a fake Responses API)', () => {
  it("writes with codex's own tools, completes through loki's task_complete over MCP, verifies", async () => {
    using workspace = new TempWorkspace('loki-task-codex-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using api = await startFakeOpenAIServer({
      expectedApiKey: API_KEY,
      defaultReply: { type: 'turn', text: 'Done.' },
    });
    using codexHome = new FakeCodexHome(api.baseUrl);
    api.enqueue(
      {
        type: 'turn',
        toolCalls: [{ name: 'exec_command', input: { cmd: "printf 'hello\\n' > hello.txt" } }],
      },
      {
        type: 'turn',
        toolCalls: [
          {
            name: 'task_complete',
            namespace: 'mcp__loki',
            input: { summary: 'Wrote hello.txt', files_changed: ['hello.txt'], tests_run: ['grep hello'] },
          },
        ],
      },
      { type: 'turn', text: 'Created hello.txt and reported it.' },
    );
    const result = await loki(
      workspace,
      ['task', 'run', 'Create hello.txt', '--provider', 'codex', '--verify', 'grep -q hello hello.txt'],
      { env: { CODEX_HOME: codexHome.path, OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: api.baseUrl } },
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Verified after 1 attempt/);

    // The model was offered loki's task_complete from its first call, inside the mcp__loki namespace.
    const turnCalls = api
      .modelRequests()
      .map((request) => request.body as { tools?: { name?: string; tools?: { name: string }[] }[] })
      .filter((body) => body.tools !== undefined);
    expect(turnCalls).toHaveLength(3);
    const lokiNamespace = turnCalls[0]?.tools?.find((tool) => tool.name === 'mcp__loki');
    expect(lokiNamespace?.tools?.map((tool) => tool.name)).toEqual(['task_complete']);

    const branch = result.stdout.match(/on (loki\/task-\w+)\./)?.[1] ?? '';
    expect(
      execFileSync('git', ['show', `${branch}:hello.txt`], { cwd: workspace.root, encoding: 'utf8' }),
    ).toBe('hello\n');
    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    const events = await opened.store.listEvents();
    const toolNames = events
      .filter((event) => event.type === 'agent.tool_called')
      .map((event) => (event.data as { toolName: string }).toolName);
    expect(toolNames).toEqual(['command_execution', 'mcp:loki/task_complete']);
    const finished = events.filter((event) => event.type === 'agent.finished').map((event) => event.data);
    expect(finished).toEqual([
      { reason: 'task_complete', steps: expect.any(Number), summary: 'Wrote hello.txt' },
    ]);
  });

  it('resumes the same thread with the verification failure, then verifies', async () => {
    using workspace = new TempWorkspace('loki-task-codex-resume-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using api = await startFakeOpenAIServer({
      expectedApiKey: API_KEY,
      defaultReply: { type: 'turn', text: 'Done.' },
    });
    using codexHome = new FakeCodexHome(api.baseUrl);
    const roundOf = (content: string) => [
      {
        type: 'turn' as const,
        toolCalls: [{ name: 'exec_command', input: { cmd: `printf '${content}\\n' > hello.txt` } }],
      },
      {
        type: 'turn' as const,
        toolCalls: [
          {
            name: 'task_complete',
            namespace: 'mcp__loki',
            input: { summary: `Wrote ${content}`, files_changed: ['hello.txt'], tests_run: [] },
          },
        ],
      },
      { type: 'turn' as const, text: 'Reported.' },
    ];
    api.enqueue(...roundOf('wrong'), ...roundOf('hello'));
    const result = await loki(
      workspace,
      ['task', 'run', 'Create hello.txt', '--provider', 'codex', '--verify', 'grep -q hello hello.txt'],
      { env: { CODEX_HOME: codexHome.path, OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: api.baseUrl } },
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('FAILED (exit 1)');
    expect(result.stdout).toMatch(/Verified after 2 attempt/);
    // The second round continues the thread: its first model call carries the first round and the failure.
    const secondRound = JSON.stringify(api.modelRequests()[3]?.body);
    expect(secondRound).toContain('Wrote wrong');
    expect(secondRound).toContain('VERIFICATION FAILED');
  });
});
