import type { LanguageModelV4Message } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../src/clock/index.ts';
import type { NewEvent } from '../src/events/index.ts';
import { classifyModelFailure, createApiLanguageModel, priceUsage } from '../src/providers/index.ts';
import { runAgentLoop } from '../src/runtime/index.ts';
import { startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';

const API_KEY = 'sk-ant-cache-test';
/** A role prompt of realistic length (about 2,000 tokens), so the prefix is long enough to cache. */
const SYSTEM = 'You are the backend engineer. Read before you write; run the tests. '.repeat(120);

const tools = [
  { name: 'read_file', description: 'read a file', inputSchema: z.object({ path: z.string() }) },
  { name: 'task_complete', description: 'finish', inputSchema: z.object({ summary: z.string() }) },
];

interface RequestBody {
  system: Array<{ cache_control?: unknown }>;
  tools: Array<{ name: string; cache_control?: unknown }>;
  messages: Array<{ role: string; content: Array<{ type: string; cache_control?: unknown }> }>;
}

function breakpointsOf(body: RequestBody): string[] {
  const found: string[] = [];
  body.tools.forEach((tool) => tool.cache_control !== undefined && found.push(`tool ${tool.name}`));
  body.system.forEach((block) => block.cache_control !== undefined && found.push('system'));
  body.messages.forEach((message, index) =>
    message.content.forEach(
      (block) => block.cache_control !== undefined && found.push(`message ${index} ${block.type}`),
    ),
  );
  return found;
}

describe('the API tool loop on Anthropic reads its prompt from the cache', () => {
  it('marks breakpoints, and the second call of a task reads what the first wrote', async () => {
    await using server = await startFakeAnthropicServer({ expectedApiKey: API_KEY });
    server.enqueue(
      fakeReply.toolCall('read_file', { path: 'a.txt' }),
      fakeReply.toolCall('read_file', { path: 'b.txt' }),
      fakeReply.toolCall('task_complete', { summary: 'read both' }),
    );
    const { model, modelId } = createApiLanguageModel({
      provider: 'anthropic',
      tier: 'default',
      env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: server.baseUrl },
    });
    const events: NewEvent[] = [];
    const clock = new ManualClock();
    const messages: LanguageModelV4Message[] = [
      { role: 'user', content: [{ type: 'text', text: 'GOAL: read a.txt and b.txt' }] },
    ];
    const result = await runAgentLoop({
      model,
      provider: 'anthropic',
      system: SYSTEM,
      messages,
      tools,
      executeTool: async (call) =>
        call.toolName === 'task_complete'
          ? {
              isError: false,
              output: 'ok',
              completion: { summary: 'read both', filesChanged: [], testsRun: [] },
            }
          : { isError: false, output: `contents of ${JSON.stringify(call.input)}` },
      price: (pricedModelId, usage) => priceUsage(pricedModelId, usage),
      maxSteps: 5,
      retry: {
        settings: { maxRetries: 0, baseWaitMilliseconds: 1, maxWaitMilliseconds: 1 },
        classify: (error) => classifyModelFailure(error, { clock }),
        breakers: [],
        random: () => 0,
        clock,
        sleep: async () => {},
      },
      emit: (event) => events.push(event),
      runId: null,
      taskId: 'task-1',
    });
    expect(result.reason).toBe('task_complete');

    const bodies = server.messageRequests().map((request) => request.body as RequestBody);
    expect(bodies.map(breakpointsOf)).toEqual([
      ['tool task_complete', 'system', 'message 0 text'],
      ['tool task_complete', 'system', 'message 0 text', 'message 2 tool_result'],
      ['tool task_complete', 'system', 'message 2 tool_result', 'message 4 tool_result'],
    ]);
    // The history the loop keeps is not marked: breakpoints move with the tail.
    expect(JSON.stringify(messages)).not.toContain('cacheControl');

    const usages = events.flatMap((event) => (event.type === 'usage.recorded' ? [event.data] : []));
    expect(usages).toHaveLength(3);
    const [first, second, third] = usages;
    expect(first?.cacheReadTokens).toBe(0);
    expect(first?.cacheWriteTokens).toBeGreaterThan(1024);
    expect(second?.cacheReadTokens).toBe(first?.cacheWriteTokens);
    expect(third?.cacheReadTokens).toBe((second?.cacheReadTokens ?? 0) + (second?.cacheWriteTokens ?? 0));
    for (const usage of usages) {
      expect(usage.costUsd).toBeCloseTo(priceUsage(modelId, usage).costUsd, 12);
    }
    expect(result.usage.cacheReadTokens).toBe(usages.reduce((sum, usage) => sum + usage.cacheReadTokens, 0));
  });
});
