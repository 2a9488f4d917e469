import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventDataByType, NewEvent } from '../src/events/index.ts';
import { acceptTaskCompleteInput, lokiToolsCommand } from '../src/mcp/index.ts';
import { type CodexRuntimeOptions, runCodex } from '../src/providers/cli/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { type FakeOpenAIServer, openAIFaults, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';

const API_KEY = 'sk-openai-runtime-test';

let worktree: string;
let api: FakeOpenAIServer;
let codexHome: FakeCodexHome;

beforeEach(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'loki-codex-worktree-'));
  execFileSync('git', ['init', '-q', worktree]);
  api = await startFakeOpenAIServer({
    expectedApiKey: API_KEY,
    defaultReply: { type: 'turn', text: 'Done.' },
  });
  codexHome = new FakeCodexHome(api.baseUrl);
});

afterEach(async () => {
  codexHome[Symbol.dispose]();
  await api.close();
  await rm(worktree, { recursive: true, force: true });
});

function runOptions(events: NewEvent[], overrides: Partial<CodexRuntimeOptions> = {}): CodexRuntimeOptions {
  return {
    prompt: 'Create hello.txt.',
    systemPrompt: 'You are a Loki test agent.',
    worktree,
    sandboxMode: 'workspace-write',
    env: {
      PATH: process.env.PATH,
      HOME: codexHome.path,
      CODEX_HOME: codexHome.path,
      OPENAI_API_KEY: API_KEY,
      ANTHROPIC_API_KEY: 'sk-ant-must-not-leak',
    },
    lokiTools: { ...lokiToolsCommand(['task_complete']), acceptTaskComplete: acceptTaskCompleteInput },
    emit: (event) => events.push(event),
    runId: 'run-1',
    taskId: 'task-1',
    timeoutMilliseconds: 120_000,
    ...overrides,
  };
}

function dataOf<Type extends keyof EventDataByType>(events: NewEvent[], type: Type): EventDataByType[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.data as EventDataByType[Type]);
}

const taskComplete = {
  name: 'task_complete',
  namespace: 'mcp__loki',
  input: { summary: 'Wrote hello.txt', files_changed: ['hello.txt'], tests_run: [] },
};

describe('Codex runtime (Codex SDK driving the real codex binary against a fake Responses API)', () => {
  it('maps commands, the task_complete call and usage into events, and returns the completion', async () => {
    api.enqueue(
      {
        type: 'turn',
        toolCalls: [{ name: 'exec_command', input: { cmd: 'echo "$ANTHROPIC_API_KEY" > hello.txt' } }],
        usage: { inputTokens: 1_000, outputTokens: 50, cacheReadTokens: 200 },
      },
      { type: 'turn', toolCalls: [taskComplete] },
      { type: 'turn', text: 'All done.' },
    );
    const events: NewEvent[] = [];
    const result = await runCodex(runOptions(events));
    expect(result.reason).toBe('task_complete');
    expect(result.failure).toBeNull();
    expect(result.completion).toEqual({
      summary: 'Wrote hello.txt',
      filesChanged: ['hello.txt'],
      testsRun: [],
    });
    expect(result.sessionId).toMatch(/\S+/);
    // Other providers' keys never reach the agent's commands.
    expect(await readFile(join(worktree, 'hello.txt'), 'utf8')).toBe('\n');
    expect(dataOf(events, 'agent.tool_called').map((call) => call.toolName)).toEqual([
      'command_execution',
      'mcp:loki/task_complete',
    ]);
    const results = dataOf(events, 'agent.tool_result');
    expect(results.map((toolResult) => toolResult.isError)).toEqual([false, false]);
    expect(results[1]?.output).toBe('Task marked complete; the harness will now verify it.');
    const usage = dataOf(events, 'usage.recorded');
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ provider: 'codex', cacheReadTokens: 200 });
    expect(result.usage.outputTokens).toBe(usage[0]?.outputTokens);
    expect(dataOf(events, 'agent.finished')).toEqual([
      { reason: 'task_complete', steps: result.steps, summary: 'Wrote hello.txt' },
    ]);
  });

  it('a turn that ends without an accepted task_complete is no progress, not done', async () => {
    api.enqueue(
      { type: 'turn', toolCalls: [{ ...taskComplete, input: { summary: '' } }] },
      { type: 'turn', text: 'I think I am finished.' },
    );
    const events: NewEvent[] = [];
    const result = await runCodex(runOptions(events));
    expect(result.reason).toBe('no_progress');
    expect(result.completion).toBeNull();
    const answer = dataOf(events, 'agent.tool_result')[0]?.output ?? '';
    expect(answer).toContain('Invalid input for task_complete:');
  });

  it('an API key the model API refuses is a permanent authentication failure', async () => {
    api.enqueue(openAIFaults.authentication());
    const events: NewEvent[] = [];
    const options = runOptions(events);
    const result = await runCodex({ ...options, env: { ...options.env, OPENAI_API_KEY: 'sk-wrong' } });
    expect(result.reason).toBe('error');
    expect(result.failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH' });
  });

  it('LOKI_CODEX_PATH selects the codex executable; a missing one is named in the failure', async () => {
    const events: NewEvent[] = [];
    const options = runOptions(events);
    const missing = join(worktree, 'no-such-codex');
    const result = await runCodex({ ...options, env: { ...options.env, LOKI_CODEX_PATH: missing } });
    expect(result.failure).toMatchObject({ category: 'permanent', code: 'CODEX_NOT_FOUND' });
    expect(result.failure?.message).toContain(missing);
  });
});
