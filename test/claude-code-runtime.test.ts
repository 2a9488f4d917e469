import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventDataByType, NewEvent } from '../src/events/index.ts';
import { runClaudeCode, type ClaudeCodeRuntimeOptions } from '../src/providers/cli/index.ts';
import { priceUsage } from '../src/providers/index.ts';
import { anthropicFaults } from './fakes/fake-anthropic-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  type ClaudeCodeHome,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { listProcessesIn, waitFor } from './fakes/claude-code-processes.ts';

// The real Claude Code binary (pinned devDependency) against a local fake Anthropic API.
const MODEL = 'claude-sonnet-4-5';
const fastRetries = { settings: { maxRetries: 3, baseWaitMilliseconds: 20, maxWaitMilliseconds: 100 } };

let worktree: string;
let home: ClaudeCodeHome;
let api: ClaudeCodeFakeApi | undefined;

beforeEach(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'loki-claude-worktree-'));
  home = await createClaudeCodeHome();
});

afterEach(async () => {
  await api?.close();
  api = undefined;
  await home[Symbol.asyncDispose]();
  await rm(worktree, { recursive: true, force: true });
});

function setup(serverOptions: Parameters<typeof startClaudeCodeFakeApi>[0] = {}): Promise<ClaudeCodeFakeApi> {
  return startClaudeCodeFakeApi(serverOptions).then((server) => {
    api = server;
    return server;
  });
}

function runOptions(
  server: ClaudeCodeFakeApi,
  events: NewEvent[],
  overrides: Partial<ClaudeCodeRuntimeOptions> = {},
): ClaudeCodeRuntimeOptions {
  return {
    prompt: 'Create hello.txt containing "hello from loki", then check it.',
    systemPrompt: 'You are a Loki test agent.',
    worktree,
    model: MODEL,
    permissionMode: 'dontAsk',
    allowedTools: ['Write', 'Bash'],
    maxTurns: 10,
    env: home.environment(server),
    executablePath: CLAUDE_CODE_EXECUTABLE,
    emit: (event) => events.push(event),
    runId: 'run-1',
    taskId: 'task-1',
    timeoutMilliseconds: 25_000,
    ...overrides,
  };
}

function dataOf<Type extends keyof EventDataByType>(events: NewEvent[], type: Type): EventDataByType[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.data as EventDataByType[Type]);
}

describe('Claude Code runtime (real binary, fake Anthropic API)', () => {
  it('runs Claude Code’s own tools in the worktree and reports every step as events, with usage', async () => {
    const server = await setup();
    const path = join(worktree, 'hello.txt');
    server.enqueue(
      fakeReply.turn({
        text: 'I will write the file.',
        toolCalls: [{ name: 'Write', input: { file_path: path, content: 'hello from loki\n' } }],
        usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, cacheWriteTokens: 10 },
      }),
      fakeReply.toolCall(
        'Bash',
        { command: 'cat hello.txt', description: 'Show the file' },
        {
          usage: { inputTokens: 120, outputTokens: 15 },
        },
      ),
      fakeReply.text('Wrote hello.txt.', { inputTokens: 130, outputTokens: 5 }),
    );
    const events: NewEvent[] = [];

    const result = await runClaudeCode(runOptions(server, events));

    expect(await readFile(path, 'utf8')).toBe('hello from loki\n');
    // agent.started is the RARV cycle's to write, once per agent session, not the runtime's.
    // Each model turn's usage is recorded as its stream ends (checked below, turn by turn).
    expect(events.filter((event) => event.type !== 'usage.recorded').map((event) => event.type)).toEqual([
      'agent.text',
      'agent.tool_called',
      'agent.tool_result',
      'agent.tool_called',
      'agent.tool_result',
      'agent.text',
      'agent.finished',
    ]);
    expect(events.every((event) => event.runId === 'run-1' && event.taskId === 'task-1')).toBe(true);
    const [called, bashCalled] = dataOf(events, 'agent.tool_called');
    expect(called).toMatchObject({ toolName: 'Write', input: { file_path: path } });
    expect(bashCalled).toMatchObject({ toolName: 'Bash', input: { command: 'cat hello.txt' } });
    const [written, shown] = dataOf(events, 'agent.tool_result');
    expect(written).toMatchObject({ toolCallId: called?.toolCallId, toolName: 'Write', isError: false });
    expect(shown).toMatchObject({ toolName: 'Bash', isError: false });
    expect(shown?.output).toContain('hello from loki');
    expect(dataOf(events, 'agent.text').map((data) => data.text)).toEqual([
      'I will write the file.',
      'Wrote hello.txt.',
    ]);

    const turns = [
      { inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, cacheWriteTokens: 10 },
      { inputTokens: 120, outputTokens: 15, cacheReadTokens: 0, cacheWriteTokens: 0 },
      { inputTokens: 130, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
    ];
    expect(dataOf(events, 'usage.recorded')).toEqual(
      turns.map((turn) => ({
        provider: 'claude-code',
        model: MODEL,
        ...turn,
        costUsd: priceUsage(MODEL, turn).costUsd,
        isPriceKnown: true,
      })),
    );
    const tokens = { inputTokens: 350, outputTokens: 40, cacheReadTokens: 50, cacheWriteTokens: 10 };
    const expectedCost = turns.reduce((sum, turn) => sum + priceUsage(MODEL, turn).costUsd, 0);
    expect(result).toMatchObject({
      reason: 'task_complete',
      steps: 3,
      summary: 'Wrote hello.txt.',
      exitCode: 0,
      failure: null,
      usage: { ...tokens, costUsd: expectedCost, isCostKnown: true, modelCalls: 3 },
    });
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(dataOf(events, 'agent.finished')).toEqual([
      { reason: 'task_complete', steps: 3, summary: 'Wrote hello.txt.' },
    ]);

    // What Claude Code sent: the key, our system prompt, and the tool results back to the model.
    const requests = server.conversationRequests();
    expect(requests).toHaveLength(3);
    expect(requests[0]?.headers['x-api-key']).toBe(home.environment(server).ANTHROPIC_API_KEY);
    expect(requests[0]?.rawBody).toContain('You are a Loki test agent.');
    expect(requests[1]?.rawBody).toContain('"tool_result"');
    expect(await listProcessesIn(worktree)).toEqual([]);
  });

  it('stops at once on a 401 with a permanent auth error that says what to fix', async () => {
    const server = await setup({ expectedApiKey: 'sk-ant-the-right-key' });
    const events: NewEvent[] = [];

    const result = await runClaudeCode(runOptions(server, events, { retry: fastRetries }));

    expect(result.reason).toBe('error');
    expect(result.failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH', statusCode: 401 });
    expect(result.failure?.message).toContain('ANTHROPIC_API_KEY');
    expect(server.conversationRequests()).toHaveLength(1);
    expect(dataOf(events, 'agent.retry')).toEqual([]);
    expect(dataOf(events, 'agent.error')).toEqual([
      expect.objectContaining({ code: 'PROVIDER_AUTH', category: 'permanent' }),
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished', data: { reason: 'error', steps: 0 } });
  });

  it('recovers from 529 and 500 under Loki’s retry policy by resuming the same session', async () => {
    const server = await setup();
    server.enqueue(
      anthropicFaults.overloaded(),
      anthropicFaults.serverError(),
      fakeReply.text('Recovered and done.'),
    );
    const events: NewEvent[] = [];

    const result = await runClaudeCode(runOptions(server, events, { retry: fastRetries }));

    expect(result).toMatchObject({ reason: 'task_complete', summary: 'Recovered and done.', steps: 1 });
    expect(dataOf(events, 'agent.error').map((data) => data.code)).toEqual([
      'PROVIDER_OVERLOADED',
      'PROVIDER_SERVER_ERROR',
    ]);
    expect(dataOf(events, 'agent.retry')).toEqual([
      expect.objectContaining({ attempt: 1, category: 'transient' }),
      expect.objectContaining({ attempt: 2, category: 'transient' }),
    ]);
    // The retries are part of one run of the CLI: it finishes once.
    expect(dataOf(events, 'agent.finished')).toHaveLength(1);
    const requests = server.conversationRequests();
    expect(requests).toHaveLength(3);
    // Claude Code's own retries are off: every retry was Loki's, each resuming the first session.
    expect(requests.map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '0', '0']);
    const sessions = new Set(requests.map((request) => request.headers['x-claude-code-session-id']));
    expect([...sessions]).toEqual([result.sessionId]);
    expect(events.at(-1)?.type).toBe('agent.finished');
  });

  it('reports Claude Code’s own retries (CLAUDE_CODE_MAX_RETRIES) as retry events', async () => {
    const server = await setup();
    server.enqueue(anthropicFaults.overloaded(), fakeReply.text('Done after a retry.'));
    const events: NewEvent[] = [];

    const result = await runClaudeCode(runOptions(server, events, { claudeCodeMaxRetries: 2 }));

    expect(result).toMatchObject({ reason: 'task_complete', summary: 'Done after a retry.' });
    const [retry] = dataOf(events, 'agent.retry');
    expect(retry).toMatchObject({ attempt: 1, category: 'transient' });
    expect(retry?.delayMilliseconds).toBeGreaterThan(0);
    expect(retry?.reason).toContain('529');
    expect(dataOf(events, 'agent.error')).toEqual([]);
    expect(server.conversationRequests()).toHaveLength(2);
  });

  it('stops at the turn limit with step_limit, not an error', async () => {
    const server = await setup({
      defaultReply: fakeReply.toolCall('Bash', { command: 'echo again', description: 'Repeat' }),
    });
    const events: NewEvent[] = [];

    const result = await runClaudeCode(runOptions(server, events, { maxTurns: 2 }));

    expect(result).toMatchObject({ reason: 'step_limit', steps: 2, failure: null });
    expect(dataOf(events, 'agent.error')).toEqual([]);
    // Every turn is charged as it ends, the one cut off by the limit included.
    expect(dataOf(events, 'usage.recorded')).toHaveLength(2);
  });

  it('abort stops Claude Code and the commands it started: no process is left behind', async () => {
    const server = await setup();
    const marker = `loki-abort-${process.pid}-${Date.now()}`;
    server.enqueue(
      fakeReply.toolCall('Bash', { command: `tail -f /dev/null # ${marker}`, description: 'Wait' }),
    );
    const events: NewEvent[] = [];
    const controller = new AbortController();

    // A time limit far beyond the test's own: only the abort can end this run in time.
    const running = runClaudeCode(
      runOptions(server, events, { signal: controller.signal, timeoutMilliseconds: 3_600_000 }),
    );
    const processes = await waitFor('the tool command to run', async () => {
      const found = await listProcessesIn(worktree);
      return found.some((process) => process.commandLine.includes(marker)) ? found : undefined;
    });
    expect(processes.length).toBeGreaterThanOrEqual(2);
    controller.abort();
    const result = await running;

    expect(result.reason).toBe('aborted');
    expect(await listProcessesIn(worktree)).toEqual([]);
    for (const process of processes) expect(await isAlive(process.pid)).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished', data: { reason: 'aborted' } });
  });

  it('stops a run that exceeds its time limit and reports it as a transient error', async () => {
    const server = await setup();
    server.enqueue(fakeReply.hang());
    const events: NewEvent[] = [];

    const result = await runClaudeCode(runOptions(server, events, { timeoutMilliseconds: 3_000 }));

    expect(result.reason).toBe('error');
    expect(result.failure).toMatchObject({ code: 'CLAUDE_CODE_TIMEOUT', category: 'transient' });
    expect(dataOf(events, 'agent.error').map((data) => data.code)).toEqual(['CLAUDE_CODE_TIMEOUT']);
    expect(await listProcessesIn(worktree)).toEqual([]);
  });

  it('says how to install Claude Code when the executable is missing', async () => {
    const server = await setup();
    const events: NewEvent[] = [];

    const result = await runClaudeCode(
      runOptions(server, events, { executablePath: join(worktree, 'no-such-claude'), retry: fastRetries }),
    );

    expect(result.failure).toMatchObject({ code: 'CLAUDE_CODE_NOT_FOUND', category: 'permanent' });
    expect(result.failure?.message).toContain('npm install -g @anthropic-ai/claude-code');
    expect(server.requests).toEqual([]);
  });
});

/** Alive means running: a zombie has ended and only waits for its parent to collect its status. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
