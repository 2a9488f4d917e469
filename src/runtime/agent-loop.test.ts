import type { LanguageModelV4Message } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/index.ts';
import type { NewEvent } from '../events/index.ts';
import {
  classifyModelFailure,
  createScriptedLanguageModel,
  priceUsage,
  type ScriptedScriptInput,
} from '../providers/index.ts';
import { type AgentLoopOptions, runAgentLoop, type ToolCallRequest } from './agent-loop.ts';

const tools = [
  {
    name: 'write_file',
    description: 'write a file',
    inputSchema: z.object({ path: z.string(), content: z.string() }),
  },
  { name: 'task_complete', description: 'finish', inputSchema: z.object({ summary: z.string() }) },
];

function setup(script: ScriptedScriptInput, overrides: Partial<AgentLoopOptions> = {}) {
  const events: NewEvent[] = [];
  const calls: ToolCallRequest[] = [];
  const sleeps: number[] = [];
  const clock = new ManualClock();
  const messages: LanguageModelV4Message[] = [
    { role: 'user', content: [{ type: 'text', text: 'GOAL: write a.txt' }] },
  ];
  const options: AgentLoopOptions = {
    model: createScriptedLanguageModel(script),
    provider: 'scripted',
    system: 'You are a test agent.',
    messages,
    tools,
    executeTool: async (call) => {
      calls.push(call);
      if (call.toolName === 'task_complete') {
        const summary = String((call.input as { summary?: unknown }).summary);
        return {
          isError: false,
          output: 'ok',
          completion: { summary, filesChanged: ['a.txt'], testsRun: [] },
        };
      }
      return { isError: false, output: `wrote ${JSON.stringify(call.input)}` };
    },
    price: (modelId, usage) => priceUsage(modelId, usage),
    maxSteps: 10,
    retry: {
      settings: { maxRetries: 3, baseWaitMilliseconds: 1000, maxWaitMilliseconds: 60_000 },
      classify: (error) => classifyModelFailure(error, { clock }),
      breakers: [],
      random: () => 0,
      clock,
      sleep: async (milliseconds) => {
        sleeps.push(milliseconds);
      },
    },
    emit: (event) => events.push(event),
    runId: 'run-1',
    taskId: 'task-1',
    ...overrides,
  };
  return { options, events, calls, sleeps, messages };
}

const write = (path: string) => ({ toolName: 'write_file', input: { path, content: 'x' } });

describe('runAgentLoop', () => {
  it('runs tool calls until task_complete, keeping the conversation and recording usage', async () => {
    const { options, events, calls, messages } = setup([
      {
        text: 'Writing the file.',
        toolCalls: [write('a.txt')],
        usage: { inputTokens: 100, outputTokens: 20 },
      },
      { toolCalls: [{ toolName: 'task_complete', input: { summary: 'wrote a.txt' } }] },
    ]);
    const result = await runAgentLoop(options);
    expect(result).toMatchObject({
      reason: 'task_complete',
      steps: 2,
      completion: { summary: 'wrote a.txt', filesChanged: ['a.txt'] },
    });
    expect(calls.map((call) => call.toolName)).toEqual(['write_file', 'task_complete']);
    expect(calls[0]?.input).toEqual({ path: 'a.txt', content: 'x' });
    expect(result.usage).toMatchObject({ inputTokens: expect.any(Number), modelCalls: 2, isCostKnown: true });
    expect(result.usage.inputTokens).toBeGreaterThanOrEqual(100);
    // user, assistant, tool, assistant, tool
    expect(messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
    ]);
    expect(events.map((event) => event.type)).toEqual([
      'usage.recorded',
      'agent.text',
      'usage.recorded',
      'agent.finished',
    ]);
    expect(events.at(-1)).toMatchObject({
      data: { reason: 'task_complete', steps: 2, summary: 'wrote a.txt' },
    });
  });

  it('retries a rate-limited call after its retry-after and a 529 with backoff', async () => {
    const { options, sleeps, events } = setup([
      { failure: { statusCode: 429, headers: { 'retry-after': '3' } } },
      { failure: { statusCode: 529, message: 'Overloaded' } },
      { toolCalls: [{ toolName: 'task_complete', input: { summary: 'done' } }] },
    ]);
    const result = await runAgentLoop(options);
    expect(result.reason).toBe('task_complete');
    expect(sleeps).toEqual([3000, 2000]);
    expect(events.filter((event) => event.type === 'agent.rate_limited')).toHaveLength(1);
  });

  it('stops at once on 401 with a message saying what to fix', async () => {
    const { options, events } = setup([{ failure: { statusCode: 401, message: 'invalid x-api-key' } }]);
    await expect(runAgentLoop(options)).rejects.toMatchObject({ code: expect.stringMatching(/AUTH/) });
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished', data: { reason: 'error' } });
  });

  it('detects the same call repeated and stops with loop_detected', async () => {
    const { options, calls } = setup([
      { toolCalls: [write('a.txt')] },
      { toolCalls: [write('a.txt')] },
      { toolCalls: [write('a.txt')] },
      { toolCalls: [write('a.txt')] },
    ]);
    const result = await runAgentLoop(options);
    expect(result.reason).toBe('loop_detected');
    expect(calls).toHaveLength(2);
  });

  it('stops at the step limit', async () => {
    const { options } = setup(
      [{ toolCalls: [write('1')] }, { toolCalls: [write('2')] }, { toolCalls: [write('3')] }],
      {
        maxSteps: 2,
      },
    );
    expect((await runAgentLoop(options)).reason).toBe('step_limit');
  });

  it('nudges a model that stops calling tools, then gives up with no_progress', async () => {
    const { options, messages } = setup([{ text: 'I think I am done.' }, { text: 'Really done.' }], {
      maxStepsWithoutProgress: 2,
    });
    const result = await runAgentLoop(options);
    expect(result.reason).toBe('no_progress');
    const nudge = messages[2];
    expect(nudge?.role).toBe('user');
    expect(JSON.stringify(nudge)).toContain('call task_complete');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const { options } = setup([{ toolCalls: [write('1')] }], { signal: controller.signal });
    expect((await runAgentLoop(options)).reason).toBe('aborted');
  });

  it('shortens older tool outputs to the history budget before the next call, naming the full output', async () => {
    const prompts: string[] = [];
    const { options } = setup(
      [
        { toolCalls: [write('1')] },
        { toolCalls: [write('2')] },
        { toolCalls: [write('3')] },
        { toolCalls: [{ toolName: 'task_complete', input: { summary: 'done' } }] },
      ],
      {
        // 3,000 tokens: two 10,000-character outputs (2,500 tokens each) do not fit.
        toolOutputHistoryTokens: 3_000,
        executeTool: async (call) =>
          call.toolName === 'task_complete'
            ? {
                isError: false,
                output: 'ok',
                completion: { summary: 'done', filesChanged: [], testsRun: [] },
              }
            : {
                isError: false,
                output: `${JSON.stringify(call.input)}`.padEnd(10_000, '.'),
                fullOutputPath: `tool-output/${call.toolCallId}.txt`,
              },
      },
    );
    const scripted = options.model;
    options.model = {
      ...scripted,
      doStream: (callOptions) => {
        prompts.push(JSON.stringify(callOptions.prompt));
        return scripted.doStream(callOptions);
      },
    };
    expect((await runAgentLoop(options)).reason).toBe('task_complete');
    expect(prompts).toHaveLength(4);
    // The third call sees the first output shortened, the latest one whole.
    expect(prompts[2]).toMatch(/of 10000 characters of this older tool output were cut/);
    expect(prompts[2]).toMatch(/the full output is in tool-output\/[^ ]+\.txt/);
    expect(prompts[2]).toContain('.'.repeat(9_000));
    expect(prompts[1]).not.toContain('were cut');
  });
});
