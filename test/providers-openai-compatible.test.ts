import { streamText, tool } from 'ai';
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

const tools = {
  read_file: tool({ description: 'Read a file', inputSchema: z.object({ path: z.string() }) }),
};
const modelOverrides = { default: 'qwen2.5-coder:14b' };

describe('openai-compatible provider (Chat Completions) against the fake server', () => {
  it('streams text and a tool call with usage; an unpriced local model is flagged, not free', async () => {
    await using server = await startFakeOpenAIServer({ expectedApiKey: 'gateway-key' });
    const env = {
      LOKI_OPENAI_COMPATIBLE_BASE_URL: server.baseUrl,
      LOKI_OPENAI_COMPATIBLE_API_KEY: 'gateway-key',
    };
    const { model, modelId } = createApiLanguageModel({
      provider: 'openai-compatible',
      tier: 'default',
      env,
      modelOverrides,
    });
    server.enqueue(
      fakeReply.turn({
        text: 'Reading it.',
        toolCalls: [{ name: 'read_file', input: { path: 'README.md' } }],
        usage: { inputTokens: 80, outputTokens: 20, cacheReadTokens: 20 },
      }),
    );

    const result = streamText({ model, tools, prompt: 'Read the readme', maxRetries: 0 });
    expect(await result.text).toBe('Reading it.');
    expect(await result.toolCalls).toMatchObject([{ toolName: 'read_file', input: { path: 'README.md' } }]);
    const usage = tokenUsageFromLanguageModelUsage(await result.usage);
    expect(usage).toEqual({ inputTokens: 80, outputTokens: 20, cacheReadTokens: 20, cacheWriteTokens: 0 });
    expect(priceUsage(modelId, usage)).toEqual({ costUsd: 0, isPriceKnown: false });

    const [request] = server.modelRequests();
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer gateway-key');
    expect(request?.body).toMatchObject({
      model: 'qwen2.5-coder:14b',
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'read_file', parameters: { required: ['path'] } } }],
    });
  });

  it('ollama is the same protocol at its own base URL, with no key', async () => {
    await using server = await startFakeOpenAIServer();
    const env = { LOKI_OLLAMA_BASE_URL: server.baseUrl };
    const { model, provider } = createApiLanguageModel({
      provider: 'ollama',
      tier: 'default',
      env,
      modelOverrides,
    });
    server.enqueue(fakeReply.text('Hello from ollama.'));
    expect(provider).toBe('ollama');
    expect(await streamText({ model, prompt: 'Hi', maxRetries: 0 }).text).toBe('Hello from ollama.');
    expect(server.modelRequests()[0]?.headers.authorization).toBeUndefined();
  });

  describe('faults are classified end to end', () => {
    async function classifyReply(reply: FakeReply) {
      await using server = await startFakeOpenAIServer();
      const env = { OPENAI_BASE_URL: server.baseUrl };
      const { model } = createApiLanguageModel({
        provider: 'openai-compatible',
        tier: 'default',
        env,
        modelOverrides,
      });
      server.enqueue(reply);
      return classifyModelFailure(
        await firstStreamError(
          streamText({ model, tools, prompt: 'Go', maxRetries: 0, onError: ignoreErrors }),
        ),
      );
    }

    it('429 with retry-after in seconds', async () => {
      expect(await classifyReply(openAIFaults.rateLimited({ retryAfterSeconds: 3 }))).toMatchObject({
        category: 'rate_limited',
        retryAfterMilliseconds: 3000,
      });
    });

    it('500 is transient, 401 is permanent', async () => {
      expect((await classifyReply(openAIFaults.serverError())).category).toBe('transient');
      expect(await classifyReply(openAIFaults.authentication())).toMatchObject({
        category: 'permanent',
        code: 'PROVIDER_AUTH',
      });
    });

    it('an error chunk inside the stream is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer never finished',
        streamFault: {
          kind: 'error-event',
          afterEvents: 2,
          errorType: 'server_error',
          message: 'The server had an error',
        },
      });
      expect((await classifyReply(reply)).category).toBe('transient');
    });

    it('a malformed chunk is transient', async () => {
      const reply = fakeReply.turn({
        text: 'partial answer',
        streamFault: { kind: 'malformed', afterEvents: 2 },
      });
      expect(await classifyReply(reply)).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_STREAM_MALFORMED',
      });
    });

    it('a refused connection is transient', async () => {
      const server = await startFakeOpenAIServer();
      const baseUrl = server.baseUrl;
      await server.close();
      const env = { OPENAI_BASE_URL: baseUrl };
      const { model } = createApiLanguageModel({
        provider: 'openai-compatible',
        tier: 'default',
        env,
        modelOverrides,
      });
      const failure = classifyModelFailure(
        await firstStreamError(streamText({ model, prompt: 'Go', maxRetries: 0, onError: ignoreErrors })),
      );
      expect(failure).toMatchObject({ category: 'transient', code: 'PROVIDER_NETWORK' });
    });
  });
});
