import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventDataByType, NewEvent } from '../src/events/index.ts';
import { type CodexRuntimeOptions, runCodex } from '../src/providers/cli/index.ts';
import { priceUsage } from '../src/providers/index.ts';
import { listProcessesIn, waitFor } from './fakes/claude-code-processes.ts';
import { codexEvents } from './fakes/codex-events.ts';
import { createFakeCodex, type FakeCodex, type FakeCodexRun } from './fakes/codex-fake-cli.ts';

const MODEL = 'gpt-5.4';
const fastRetries = { settings: { maxRetries: 3, baseWaitMilliseconds: 20, maxWaitMilliseconds: 100 } };

let worktree: string;
let codex: FakeCodex | undefined;

beforeEach(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'loki-codex-worktree-'));
});

afterEach(async () => {
  await codex?.[Symbol.asyncDispose]();
  codex = undefined;
  await rm(worktree, { recursive: true, force: true });
});

async function setup(runs: FakeCodexRun[]): Promise<FakeCodex> {
  codex = await createFakeCodex(runs);
  return codex;
}

function runOptions(
  fake: FakeCodex,
  events: NewEvent[],
  overrides: Partial<CodexRuntimeOptions> = {},
): CodexRuntimeOptions {
  return {
    prompt: 'Create hello.txt.',
    systemPrompt: 'You are a Loki test agent.',
    worktree,
    model: MODEL,
    sandboxMode: 'workspace-write',
    env: {
      PATH: process.env.PATH,
      HOME: worktree,
      OPENAI_API_KEY: 'sk-openai-test',
      ANTHROPIC_API_KEY: 'sk-ant-must-not-leak',
      LOKI_SECRET_SETTING: 'must-not-leak',
    },
    executablePath: fake.executablePath,
    emit: (event) => events.push(event),
    runId: 'run-1',
    taskId: 'task-1',
    timeoutMilliseconds: 20_000,
    ...overrides,
  };
}

function dataOf<Type extends keyof EventDataByType>(events: NewEvent[], type: Type): EventDataByType[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.data as EventDataByType[Type]);
}

describe('Codex runtime (fake codex executable printing real-shaped JSONL)', () => {
  it('maps commands, file changes, messages and usage into events, in order', async () => {
    const fake = await setup([
      {
        exitCode: 0,
        lines: [
          codexEvents.threadStarted('thread-1'),
          codexEvents.turnStarted(),
          codexEvents.reasoning('item_0', '**Planning the file**'),
          codexEvents.todoList('item_1'),
          codexEvents.commandStarted('item_2', 'bash -lc ls'),
          codexEvents.commandCompleted('item_2', 'bash -lc ls', 'README.md\n', 0),
          codexEvents.fileChange('item_3', [{ path: join(worktree, 'hello.txt'), kind: 'add' }]),
          codexEvents.agentMessage('item_4', 'Created hello.txt.'),
          codexEvents.turnCompleted({ input: 1_000, cached: 200, output: 50 }),
        ],
      },
    ]);
    const events: NewEvent[] = [];

    const result = await runCodex(runOptions(fake, events));

    // agent.started is the RARV cycle's to write, once per agent session, not the runtime's.
    expect(events.map((event) => event.type)).toEqual([
      'agent.tool_called',
      'agent.tool_result',
      'agent.tool_called',
      'agent.tool_result',
      'agent.text',
      'usage.recorded',
      'agent.finished',
    ]);
    expect(dataOf(events, 'agent.tool_called')).toEqual([
      { toolCallId: 'item_2', toolName: 'command_execution', input: { command: 'bash -lc ls' } },
      {
        toolCallId: 'item_3',
        toolName: 'file_change',
        input: { changes: [{ path: join(worktree, 'hello.txt'), kind: 'add' }] },
      },
    ]);
    expect(dataOf(events, 'agent.tool_result')).toEqual([
      expect.objectContaining({ toolCallId: 'item_2', isError: false, output: 'README.md\n' }),
      expect.objectContaining({
        toolCallId: 'item_3',
        isError: false,
        output: `add ${join(worktree, 'hello.txt')}`,
      }),
    ]);
    const tokens = { inputTokens: 800, outputTokens: 50, cacheReadTokens: 200, cacheWriteTokens: 0 };
    const costUsd = priceUsage(MODEL, tokens).costUsd;
    expect(costUsd).toBeGreaterThan(0);
    expect(dataOf(events, 'usage.recorded')).toEqual([
      { provider: 'codex', model: MODEL, ...tokens, costUsd, isPriceKnown: true },
    ]);
    expect(result).toMatchObject({
      reason: 'task_complete',
      summary: 'Created hello.txt.',
      steps: 3,
      exitCode: 0,
      sessionId: 'thread-1',
      failure: null,
      usage: { ...tokens, costUsd, isCostKnown: true },
    });

    const [invocation] = await fake.invocations();
    expect(invocation?.argv).toEqual([
      'exec',
      '--json',
      '--color=never',
      '--sandbox=workspace-write',
      `--model=${MODEL}`,
      '--',
      'You are a Loki test agent.\n\nCreate hello.txt.',
    ]);
    expect(invocation?.cwd).toBe(worktree);
    expect(invocation?.env.OPENAI_API_KEY).toBe('sk-openai-test');
    expect(invocation?.env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(invocation?.env.LOKI_SECRET_SETTING).toBeUndefined();
  });

  it('reports a failed turn with a 401 as a permanent auth error, without retrying', async () => {
    const unauthorized = 'unexpected status 401 Unauthorized: Incorrect API key provided';
    const fake = await setup([
      {
        exitCode: 1,
        lines: [
          codexEvents.threadStarted('thread-1'),
          codexEvents.turnStarted(),
          codexEvents.error(`Reconnecting... 1/5 (${unauthorized})`),
          codexEvents.error(unauthorized),
          codexEvents.turnFailed(unauthorized),
        ],
      },
    ]);
    const events: NewEvent[] = [];

    const result = await runCodex(runOptions(fake, events, { retry: fastRetries }));

    expect(result.reason).toBe('error');
    expect(result.exitCode).toBe(1);
    expect(result.failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH', statusCode: 401 });
    expect(result.failure?.message).toContain('OPENAI_API_KEY');
    expect(await fake.invocations()).toHaveLength(1);
    expect(dataOf(events, 'agent.retry')).toEqual([
      expect.objectContaining({ attempt: 1, reason: expect.stringContaining('Reconnecting... 1/5') }),
    ]);
    expect(dataOf(events, 'agent.error')).toEqual([expect.objectContaining({ code: 'PROVIDER_AUTH' })]);
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished', data: { reason: 'error' } });
  });

  it('retries a transient failure under Loki’s policy by resuming the thread', async () => {
    const fake = await setup([
      {
        exitCode: 1,
        lines: [
          codexEvents.threadStarted('thread-7'),
          codexEvents.turnStarted(),
          codexEvents.commandStarted('item_0', 'npm test'),
          codexEvents.commandCompleted('item_0', 'npm test', 'ok', 0),
          codexEvents.turnFailed('exceeded retry limit, last status: 500 Internal Server Error'),
        ],
      },
      {
        exitCode: 0,
        lines: [
          codexEvents.threadStarted('thread-7'),
          codexEvents.turnStarted(),
          codexEvents.agentMessage('item_1', 'All done.'),
          codexEvents.turnCompleted({ input: 300, cached: 0, output: 20 }),
        ],
      },
    ]);
    const events: NewEvent[] = [];

    const result = await runCodex(runOptions(fake, events, { retry: fastRetries }));

    expect(result).toMatchObject({
      reason: 'task_complete',
      summary: 'All done.',
      steps: 2,
      sessionId: 'thread-7',
    });
    expect(dataOf(events, 'agent.error')).toEqual([
      expect.objectContaining({ code: 'PROVIDER_SERVER_ERROR', category: 'transient' }),
    ]);
    expect(dataOf(events, 'agent.retry')).toEqual([
      expect.objectContaining({ attempt: 1, category: 'transient' }),
    ]);
    // The retries are part of one run of the CLI: it finishes once.
    expect(dataOf(events, 'agent.finished')).toHaveLength(1);
    const invocations = await fake.invocations();
    expect(invocations).toHaveLength(2);
    expect(invocations[1]?.argv.slice(-4)).toEqual([
      'resume',
      'thread-7',
      '--',
      expect.stringContaining('Continue'),
    ]);
  });

  it('logs unparseable lines as errors and carries on; unknown events are ignored', async () => {
    const fake = await setup([
      {
        exitCode: 0,
        lines: [
          codexEvents.threadStarted('thread-1'),
          'this is not JSON {',
          { type: 'item.completed', item: { type: 'agent_message' } },
          { type: 'something.new', detail: 1 },
          codexEvents.agentMessage('item_0', 'Still fine.'),
          codexEvents.turnCompleted({ input: 10, cached: 0, output: 5 }),
        ],
      },
    ]);
    const events: NewEvent[] = [];

    const result = await runCodex(runOptions(fake, events));

    expect(result).toMatchObject({ reason: 'task_complete', summary: 'Still fine.' });
    expect(dataOf(events, 'agent.error')).toEqual([
      expect.objectContaining({ code: 'CODEX_UNPARSEABLE_OUTPUT', category: 'internal' }),
      expect.objectContaining({ code: 'CODEX_UNPARSEABLE_OUTPUT', category: 'internal' }),
    ]);
  });

  it('reports a crash without a turn result with its stderr', async () => {
    const fake = await setup([
      { exitCode: 3, lines: [codexEvents.threadStarted('t')], stderr: 'panic: config broken\n' },
    ]);
    const events: NewEvent[] = [];

    const result = await runCodex(runOptions(fake, events));

    expect(result).toMatchObject({ reason: 'error', exitCode: 3 });
    expect(result.failure).toMatchObject({ code: 'CODEX_FAILED', category: 'permanent' });
    expect(result.failure?.message).toContain('panic: config broken');
  });

  it('abort stops Codex and the processes it started in their own session', async () => {
    const marker = `loki-codex-abort-${process.pid}-${Date.now()}`;
    const fake = await setup([
      {
        exitCode: 0,
        lines: [codexEvents.threadStarted('t'), codexEvents.commandStarted('item_0', 'sleep forever')],
        hangWithGrandchild: marker,
      },
    ]);
    const events: NewEvent[] = [];
    const controller = new AbortController();

    const running = runCodex(runOptions(fake, events, { signal: controller.signal }));
    await waitFor('the grandchild to start', async () => {
      const found = await listProcessesIn(worktree);
      return found.some((process) => process.commandLine.includes(marker)) ? true : undefined;
    });
    controller.abort();
    const result = await running;

    expect(result.reason).toBe('aborted');
    expect(await listProcessesIn(worktree)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished', data: { reason: 'aborted' } });
  });

  it('says how to install Codex when the executable is missing', async () => {
    const fake = await setup([]);
    const events: NewEvent[] = [];

    const result = await runCodex(
      runOptions(fake, events, { executablePath: join(worktree, 'no-such-codex') }),
    );

    expect(result.failure).toMatchObject({ code: 'CODEX_NOT_FOUND', category: 'permanent' });
    expect(result.failure?.message).toContain('npm install -g @openai/codex');
    expect(await fake.invocations()).toEqual([]);
  });
});
