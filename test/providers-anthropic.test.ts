import { generateText, type ModelMessage, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../src/clock/index.ts';
import {
  classifyModelFailure,
  createApiLanguageModel,
  priceUsage,
  tokenUsageFromLanguageModelUsage,
} from '../src/providers/index.ts';
import { anthropicFaults, startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { firstStreamError, ignoreErrors } from './fakes/first-stream-error.ts';

const API_KEY = 'sk-ant-test-key';

/** Tools as Loki passes them: schemas only, no execute; Loki runs the tools itself. */
const tools = {
  write_file: tool({
    description: 'Write a file in the worktree',
    inputSchema: z.object({ path: z.string(), content: z.string() }),
  }),
};

async function startServerAndModel(tier: 'planning' | 'default' | 'fast' = 'default') {
  const server = await startFakeAnthropicServer({ expectedApiKey: API_KEY });
  // ANTHROPIC_BASE_URL without /v1, exactly as Claude Code is given it.
  const env = { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: server.baseUrl };
  return { server, ...createApiLanguageModel({ provider: 'anthropic', tier, env }) };
}

describe('anthropic provider against the fake Messages API', () => {
  it('streams text and a tool call, reports usage, and prices it', async () => {
    const { server, model, modelId } = await startServerAndModel();
    await using _server = server;
    server.enqueue(
      fakeReply.turn({
        text: 'I will write the file now.',
        toolCalls: [{ name: 'write_file', input: { path: 'notes.txt', content: 'hello' } }],
        usage: { inputTokens: 1000, outputTokens: 200, cacheReadTokens: 500, cacheWriteTokens: 100 },
      }),
    );

    const result = streamText({ model, tools, prompt: 'Write notes.txt', maxRetries: 0 });
    const textDeltas: string[] = [];
    for await (const part of result.fullStream) if (part.type === 'text-delta') textDeltas.push(part.text);

    expect(textDeltas.length).toBeGreaterThan(1);
    expect(await result.text).toBe('I will write the file now.');
    expect(await result.finishReason).toBe('tool-calls');
    const [toolCall] = await result.toolCalls;
    expect(toolCall).toMatchObject({
      toolName: 'write_file',
      input: { path: 'notes.txt', content: 'hello' },
    });

    const usage = tokenUsageFromLanguageModelUsage(await result.usage);
    expect(usage).toEqual({
      inputTokens: 1000,
      outputTokens: 200,
      cacheReadTokens: 500,
      cacheWriteTokens: 100,
    });
    // claude-sonnet-5-5: $2 in, $10 out, $0.10 cache read, $2.50 cache write per million tokens.
    expect(modelId).toBe('claude-sonnet-5-5');
    const priced = priceUsage(modelId, usage);
    expect(priced.isPriceKnown).toBe(true);
    expect(priced.costUsd).toBeCloseTo((1000 * 2 + 200 * 10 + 500 * 0.1 + 100 * 2.5) / 1_000_000, 10);

    const [request] = server.messageRequests();
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe(API_KEY);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.body).toMatchObject({
      model: 'claude-sonnet-5-5',
      stream: true,
      tools: [
        {
          name: 'write_file',
          description: 'Write a file in the worktree',
          input_schema: { type: 'object', required: ['path', 'content'] },
        },
      ],
    });
  });

  it('sends the tool result back on the next call, as Loki does after running the tool', async () => {
    const { server, model } = await startServerAndModel();
    await using _server = server;
    server.enqueue(
      fakeReply.toolCall('write_file', { path: 'a.txt', content: 'x' }),
      fakeReply.text('Done.'),
    );

    const messages: ModelMessage[] = [{ role: 'user', content: 'Write a.txt' }];
    const first = streamText({ model, tools, messages, maxRetries: 0 });
    const [toolCall] = await first.toolCalls;
    if (toolCall === undefined) throw new Error('expected a tool call');
    messages.push(...(await first.response).messages, {
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: toolCall.toolCallId,
          toolName: toolCall.toolName,
          output: { type: 'text', value: 'wrote 1 byte' },
        },
      ],
    });
    const second = streamText({ model, tools, messages, maxRetries: 0 });
    expect(await second.text).toBe('Done.');

    const secondBody = server.messageRequests()[1]?.body as { messages: unknown[] };
    expect(secondBody.messages).toHaveLength(3);
    expect(secondBody.messages[2]).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: toolCall.toolCallId }],
    });
  });

  it('answers non-streaming calls with one JSON message', async () => {
    const { server, model } = await startServerAndModel('fast');
    await using _server = server;
    server.enqueue(fakeReply.text('Short answer.', { inputTokens: 12, outputTokens: 3 }));
    const result = await generateText({ model, prompt: 'Hi', maxRetries: 0 });
    expect(result.text).toBe('Short answer.');
    expect(result.usage.inputTokens).toBe(12);
    expect(server.messageRequests()[0]?.body).toMatchObject({ model: 'claude-haiku-5-5' });
  });

  it('serves agent-CLI style calls: ?beta=true, routed side calls, count_tokens', async () => {
    await using server = await startFakeAnthropicServer({
      // Claude Code probes with max_tokens: 1 at startup; answer it without using the task's replies.
      route: (request) =>
        (request.body as { max_tokens?: number }).max_tokens === 1 ? fakeReply.text('ok') : undefined,
    });
    server.enqueue(fakeReply.text('the task reply'));
    const post = (path: string, body: unknown) =>
      fetch(`${server.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'k' },
        body: JSON.stringify(body),
      });
    const messages = [{ role: 'user', content: 'quota' }];

    const probe = await post('/v1/messages?beta=true', {
      model: 'claude-haiku-5-5',
      max_tokens: 1,
      messages,
    });
    expect(await probe.json()).toMatchObject({ content: [{ type: 'text', text: 'ok' }] });
    const count = await post('/v1/messages/count_tokens?beta=true', { model: 'claude-haiku-5-5', messages });
    expect(await count.json()).toMatchObject({ input_tokens: expect.any(Number) });
    const task = await post('/v1/messages?beta=true', {
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      messages,
    });
    expect(await task.json()).toMatchObject({ content: [{ type: 'text', text: 'the task reply' }] });

    const missingVersion = await fetch(`${server.baseUrl}/v1/messages`, { method: 'POST', body: '{}' });
    expect(missingVersion.status).toBe(400);
    expect(server.messageRequests().map((request) => request.path)).toEqual([
      '/v1/messages?beta=true',
      '/v1/messages?beta=true',
      '/v1/messages',
    ]);
  });

  describe('faults are classified end to end through the real provider code', () => {
    async function classifyReply(
      reply: Parameters<Awaited<ReturnType<typeof startFakeAnthropicServer>>['enqueue']>[0],
    ) {
      const { server, model } = await startServerAndModel();
      await using _server = server;
      server.enqueue(reply);
      const error = await firstStreamError(
        streamText({ model, tools, prompt: 'Go', maxRetries: 0, onError: ignoreErrors }),
      );
      return classifyModelFailure(error, {
        provider: 'anthropic',
        clock: new ManualClock(Date.UTC(2026, 0, 1)),
      });
    }

    it('429 with retry-after is rate limited for that long', async () => {
      expect(await classifyReply(anthropicFaults.rateLimited({ retryAfterSeconds: 7 }))).toMatchObject({
        category: 'rate_limited',
        code: 'PROVIDER_RATE_LIMITED',
        retryAfterMilliseconds: 7000,
        statusCode: 429,
      });
    });

    it('429 without retry-after waits until the exhausted limit resets', async () => {
      const resetAt = new Date(Date.UTC(2026, 0, 1) + 42_000);
      expect(await classifyReply(anthropicFaults.rateLimited({ resetAt }))).toMatchObject({
        category: 'rate_limited',
        retryAfterMilliseconds: 42_000,
      });
    });

    it('529 overloaded is transient', async () => {
      expect(await classifyReply(anthropicFaults.overloaded())).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_OVERLOADED',
        statusCode: 529,
      });
    });

    it('500 is transient', async () => {
      expect(await classifyReply(anthropicFaults.serverError())).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_SERVER_ERROR',
      });
    });

    it('401 is permanent and says which key to check', async () => {
      const failure = await classifyReply(anthropicFaults.authentication());
      expect(failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH', statusCode: 401 });
      expect(failure.message).toContain('ANTHROPIC_API_KEY');
    });

    it('a wrong API key is refused by the fake with the real 401', async () => {
      await using server = await startFakeAnthropicServer({ expectedApiKey: API_KEY });
      const env = { ANTHROPIC_API_KEY: 'sk-ant-wrong', ANTHROPIC_BASE_URL: server.baseUrl };
      const { model } = createApiLanguageModel({ provider: 'anthropic', tier: 'default', env });
      const error = await firstStreamError(
        streamText({ model, prompt: 'Go', maxRetries: 0, onError: ignoreErrors }),
      );
      expect(classifyModelFailure(error, { provider: 'anthropic' }).code).toBe('PROVIDER_AUTH');
    });

    it('404 model not found is permanent', async () => {
      expect(await classifyReply(anthropicFaults.modelNotFound('claude-nope'))).toMatchObject({
        category: 'permanent',
        code: 'PROVIDER_MODEL_UNKNOWN',
      });
    });

    it('a too-low credit balance is a permanent quota failure', async () => {
      expect(await classifyReply(anthropicFaults.creditTooLow())).toMatchObject({
        category: 'permanent',
        code: 'PROVIDER_QUOTA',
      });
    });

    it('an overloaded_error event inside the stream is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer that will not finish',
        streamFault: {
          kind: 'error-event',
          afterEvents: 4,
          errorType: 'overloaded_error',
          message: 'Overloaded',
        },
      });
      expect(await classifyReply(reply)).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_OVERLOADED',
      });
    });

    it('a stream cut mid-way is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer that will not finish',
        streamFault: { kind: 'cut', afterEvents: 4 },
      });
      expect(await classifyReply(reply)).toMatchObject({ category: 'transient', code: 'PROVIDER_NETWORK' });
    });

    it('a malformed event is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer',
        streamFault: { kind: 'malformed', afterEvents: 4 },
      });
      expect(await classifyReply(reply)).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_STREAM_MALFORMED',
      });
    });

    it('a server that never answers times out as transient', async () => {
      const { server, model } = await startServerAndModel();
      await using _server = server;
      server.enqueue(fakeReply.hang());
      const result = streamText({
        model,
        prompt: 'Go',
        maxRetries: 0,
        onError: ignoreErrors,
        abortSignal: AbortSignal.timeout(200),
      });
      const failure = classifyModelFailure(await firstStreamError(result));
      expect(failure).toMatchObject({ category: 'transient', code: 'PROVIDER_TIMEOUT' });
    });
  });
});
