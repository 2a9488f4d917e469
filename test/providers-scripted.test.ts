import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, type ModelMessage, streamText, tool } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../src/clock/index.ts';
import {
  classifyModelFailure,
  createScriptedLanguageModel,
  loadScriptedScript,
  priceUsage,
  type ScriptedScriptInput,
  tokenUsageFromLanguageModelUsage,
} from '../src/providers/index.ts';
import { firstStreamError, ignoreErrors } from './fakes/first-stream-error.ts';

const tools = {
  write_file: tool({
    description: 'Write a file',
    inputSchema: z.object({ path: z.string(), content: z.string() }),
  }),
  task_complete: tool({ description: 'Finish the task', inputSchema: z.object({ summary: z.string() }) }),
};

const script: ScriptedScriptInput = [
  {
    text: 'Writing the greeting.',
    toolCalls: [{ toolName: 'write_file', input: { path: 'hello.txt', content: 'hello' } }],
    usage: { inputTokens: 120, outputTokens: 30 },
  },
  { toolCalls: [{ toolName: 'task_complete', input: { summary: 'wrote hello.txt' } }] },
];

/** Runs one model call the way Loki's tool loop does, then answers every tool call with "ok". */
async function step(model: ReturnType<typeof createScriptedLanguageModel>, messages: ModelMessage[]) {
  const result = streamText({ model, tools, messages, maxRetries: 0 });
  const toolCalls = await result.toolCalls;
  messages.push(...(await result.response).messages);
  if (toolCalls.length > 0) {
    messages.push({
      role: 'tool',
      content: toolCalls.map((toolCall) => ({
        type: 'tool-result' as const,
        toolCallId: toolCall.toolCallId,
        toolName: toolCall.toolName,
        output: { type: 'text' as const, value: 'ok' },
      })),
    });
  }
  return { result, toolCalls };
}

describe('scripted model through streamText', () => {
  it('replays text and tool calls in order, labelled as scripted and priced at a known zero', async () => {
    const model = createScriptedLanguageModel(script, { clock: new ManualClock() });
    expect(model.provider).toBe('scripted');
    expect(model.modelId).toBe('scripted');
    const messages: ModelMessage[] = [{ role: 'user', content: 'Say hello in a file' }];

    const first = await step(model, messages);
    expect(await first.result.text).toBe('Writing the greeting.');
    expect(first.toolCalls).toMatchObject([
      { toolName: 'write_file', input: { path: 'hello.txt', content: 'hello' } },
    ]);
    expect(await first.result.finishReason).toBe('tool-calls');
    const usage = tokenUsageFromLanguageModelUsage(await first.result.usage);
    expect(usage).toEqual({ inputTokens: 120, outputTokens: 30, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(priceUsage((await first.result.response).modelId, usage)).toEqual({
      costUsd: 0,
      isPriceKnown: true,
    });

    const second = await step(model, messages);
    expect(second.toolCalls).toMatchObject([
      { toolName: 'task_complete', input: { summary: 'wrote hello.txt' } },
    ]);
    expect(model.stepsPlayed).toBe(2);
  });

  it('is deterministic: the same script gives the same model stream, part for part', async () => {
    async function transcript() {
      const model = createScriptedLanguageModel(script, { clock: new ManualClock() });
      const parts: unknown[] = [];
      for (let call = 0; call < model.stepCount; call += 1) {
        const { stream } = await model.doStream({
          prompt: [{ role: 'user', content: [{ type: 'text', text: 'Go' }] }],
        });
        for await (const part of stream) parts.push(part);
      }
      return parts;
    }
    const first = await transcript();
    expect(first.length).toBeGreaterThan(10);
    expect(await transcript()).toEqual(first);
  });

  it('says clearly when the script runs out', async () => {
    const model = createScriptedLanguageModel([{ text: 'only one' }]);
    const messages: ModelMessage[] = [{ role: 'user', content: 'Go' }];
    await step(model, messages);
    const error = await firstStreamError(
      streamText({ model, messages, maxRetries: 0, onError: ignoreErrors }),
    );
    expect(String(error)).toContain('scripted model: script exhausted after 1 steps');
    expect(classifyModelFailure(error)).toMatchObject({
      category: 'permanent',
      code: 'SCRIPTED_MODEL_EXHAUSTED',
    });
  });

  it('a failure step fails the call like a provider would, and the next call goes on', async () => {
    const model = createScriptedLanguageModel([
      { failure: { statusCode: 429, headers: { 'Retry-After': '5' } } },
      { text: 'recovered' },
    ]);
    const error = await firstStreamError(
      streamText({ model, prompt: 'Go', maxRetries: 0, onError: ignoreErrors }),
    );
    expect(classifyModelFailure(error)).toMatchObject({
      category: 'rate_limited',
      retryAfterMilliseconds: 5000,
    });
    expect(await streamText({ model, prompt: 'Go', maxRetries: 0 }).text).toBe('recovered');
  });

  it('also answers non-streaming calls', async () => {
    const model = createScriptedLanguageModel(script);
    const result = await generateText({ model, tools, prompt: 'Go', maxRetries: 0 });
    expect(result.text).toBe('Writing the greeting.');
    expect(result.toolCalls).toHaveLength(1);
  });

  it('estimates usage from text lengths when the script gives none', async () => {
    const model = createScriptedLanguageModel([{ text: 'x'.repeat(40) }]);
    const usage = await streamText({ model, prompt: 'Go', maxRetries: 0 }).usage;
    expect(usage.outputTokens).toBe(10);
    expect(usage.inputTokens).toBeGreaterThan(0);
  });

  it('waits its latency and stops waiting when the call is cancelled', async () => {
    const model = createScriptedLanguageModel(script, { latencyMilliseconds: 60_000 });
    const controller = new AbortController();
    const call = model.doStream({ prompt: [], abortSignal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('loading scripts from files', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'loki-script-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads YAML', async () => {
    const path = join(directory, 'demo.yaml');
    await writeFile(
      path,
      [
        'steps:',
        '  - text: Creating the file.',
        '    toolCalls:',
        '      - toolName: write_file',
        '        input: { path: a.txt, content: hi }',
        '  - text: Done.',
      ].join('\n'),
    );
    const loaded = loadScriptedScript(path);
    expect(loaded.steps).toHaveLength(2);
    expect(loaded.steps[0]?.toolCalls[0]).toEqual({
      toolName: 'write_file',
      input: { path: 'a.txt', content: 'hi' },
    });
  });

  it('reads JSON, as a bare list of steps', async () => {
    const path = join(directory, 'demo.json');
    await writeFile(path, JSON.stringify([{ text: 'one' }, { text: 'two' }]));
    expect(loadScriptedScript(path).steps.map((scriptedStep) => scriptedStep.text)).toEqual(['one', 'two']);
  });

  it('names the file and the broken field when a script is invalid', async () => {
    const path = join(directory, 'broken.yaml');
    await writeFile(path, 'steps:\n  - toolCalls:\n      - input: { a: 1 }\n');
    expect(() => loadScriptedScript(path)).toThrow(/broken\.yaml[\s\S]*steps\[0\]\.toolCalls\[0\]\.toolName/);
  });
});
