import { generateText, type ModelMessage, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  classifyModelFailure,
  createApiLanguageModel,
  priceUsage,
  tokenUsageFromLanguageModelUsage,
} from '../src/providers/index.ts';
import { type FakeReply, fakeReply } from './fakes/fake-reply.ts';
import { openAIFaults, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { firstStreamError, ignoreErrors } from './fakes/first-stream-error.ts';

const API_KEY = 'sk-openai-test-key';

const tools = {
  run_command: tool({
    description: 'Run a shell command in the worktree',
    inputSchema: z.object({ command: z.string() }),
  }),
};

async function startServerAndModel() {
  const server = await startFakeOpenAIServer({ expectedApiKey: API_KEY });
  const env = { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: server.baseUrl };
  return { server, ...createApiLanguageModel({ provider: 'openai', tier: 'default', env }) };
}

describe('openai provider (Responses API) against the fake server', () => {
  it('streams text and a function call, reports usage, and prices it', async () => {
    const { server, model, modelId } = await startServerAndModel();
    await using _server = server;
    server.enqueue(
      fakeReply.turn({
        text: 'Running the tests.',
        toolCalls: [{ name: 'run_command', input: { command: 'npm test' } }],
        usage: { inputTokens: 3000, outputTokens: 400, cacheReadTokens: 1000 },
      }),
    );

    const result = streamText({ model, tools, prompt: 'Run the tests', maxRetries: 0 });
    expect(await result.text).toBe('Running the tests.');
    expect(await result.finishReason).toBe('tool-calls');
    const [toolCall] = await result.toolCalls;
    expect(toolCall).toMatchObject({ toolName: 'run_command', input: { command: 'npm test' } });

    const usage = tokenUsageFromLanguageModelUsage(await result.usage);
    expect(usage).toEqual({
      inputTokens: 3000,
      outputTokens: 400,
      cacheReadTokens: 1000,
      cacheWriteTokens: 0,
    });
    // gpt-5.4: $2.50 in, $15 out, $0.25 cached input per million tokens.
    expect(modelId).toBe('gpt-5.4');
    expect(priceUsage(modelId, usage).costUsd).toBeCloseTo(
      (3000 * 2.5 + 400 * 15 + 1000 * 0.25) / 1_000_000,
      10,
    );

    const [request] = server.modelRequests();
    expect(request?.path).toBe('/v1/responses');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toMatchObject({
      model: 'gpt-5.4',
      stream: true,
      tools: [
        { type: 'function', name: 'run_command', parameters: { type: 'object', required: ['command'] } },
      ],
    });
  });

  it('sends the function output back on the next call', async () => {
    const { server, model } = await startServerAndModel();
    await using _server = server;
    server.enqueue(fakeReply.toolCall('run_command', { command: 'ls' }), fakeReply.text('Two files.'));

    const messages: ModelMessage[] = [{ role: 'user', content: 'List files' }];
    const first = streamText({ model, tools, messages, maxRetries: 0 });
    const [toolCall] = await first.toolCalls;
    if (toolCall === undefined) throw new Error('expected a tool call');
    messages.push(...(await first.response).messages, {
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: toolCall.toolCallId,
          toolName: 'run_command',
          output: { type: 'text', value: 'a.txt\nb.txt' },
        },
      ],
    });
    expect(await streamText({ model, tools, messages, maxRetries: 0 }).text).toBe('Two files.');

    const secondInput = (server.modelRequests()[1]?.body as { input: unknown[] }).input;
    expect(secondInput).toContainEqual(
      expect.objectContaining({
        type: 'function_call_output',
        call_id: toolCall.toolCallId,
        output: 'a.txt\nb.txt',
      }),
    );
  });

  it('answers non-streaming calls with one JSON response', async () => {
    const { server, model } = await startServerAndModel();
    await using _server = server;
    server.enqueue(fakeReply.text('Plain.', { inputTokens: 7, outputTokens: 2 }));
    const result = await generateText({ model, prompt: 'Hi', maxRetries: 0 });
    expect(result.text).toBe('Plain.');
    expect(result.usage.outputTokens).toBe(2);
  });

  describe('faults are classified end to end through the real provider code', () => {
    async function classifyReply(reply: FakeReply) {
      const { server, model } = await startServerAndModel();
      await using _server = server;
      server.enqueue(reply);
      const error = await firstStreamError(
        streamText({ model, tools, prompt: 'Go', maxRetries: 0, onError: ignoreErrors }),
      );
      return classifyModelFailure(error, { provider: 'openai' });
    }

    it('429 with retry-after-ms is rate limited for that long', async () => {
      expect(await classifyReply(openAIFaults.rateLimited({ retryAfterMilliseconds: 1500 }))).toMatchObject({
        category: 'rate_limited',
        retryAfterMilliseconds: 1500,
      });
    });

    it('429 with only the reset header waits for the exhausted limit', async () => {
      expect(await classifyReply(openAIFaults.rateLimited())).toMatchObject({
        category: 'rate_limited',
        retryAfterMilliseconds: 20_000,
      });
    });

    it('429 insufficient_quota is a permanent quota failure, not a rate limit', async () => {
      expect(await classifyReply(openAIFaults.insufficientQuota())).toMatchObject({
        category: 'permanent',
        code: 'PROVIDER_QUOTA',
      });
    });

    it('401 is permanent and names OPENAI_API_KEY', async () => {
      const failure = await classifyReply(openAIFaults.authentication());
      expect(failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH' });
      expect(failure.message).toContain('OPENAI_API_KEY');
    });

    it('404 model_not_found is permanent', async () => {
      expect(await classifyReply(openAIFaults.modelNotFound('gpt-nope'))).toMatchObject({
        category: 'permanent',
        code: 'PROVIDER_MODEL_UNKNOWN',
      });
    });

    it('500 and 503 are transient', async () => {
      expect((await classifyReply(openAIFaults.serverError())).category).toBe('transient');
      expect((await classifyReply(openAIFaults.overloaded())).category).toBe('transient');
    });

    it('400 invalid request is permanent', async () => {
      expect(await classifyReply(openAIFaults.badRequest("Invalid value for 'temperature'."))).toMatchObject({
        category: 'permanent',
        code: 'PROVIDER_BAD_REQUEST',
      });
    });

    it('a stream cut mid-way is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer never finished',
        streamFault: { kind: 'cut', afterEvents: 5 },
      });
      expect((await classifyReply(reply)).category).toBe('transient');
    });

    it('a malformed event is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer',
        streamFault: { kind: 'malformed', afterEvents: 5 },
      });
      expect(await classifyReply(reply)).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_STREAM_MALFORMED',
      });
    });
  });
});
