import type { LanguageModelV4FunctionTool, LanguageModelV4Message } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { CACHE_BREAKPOINT, markCacheBreakpoints, usesCacheBreakpoints } from './mark-cache-breakpoints.ts';

const tool = (name: string): LanguageModelV4FunctionTool => ({
  type: 'function',
  name,
  description: name,
  inputSchema: { type: 'object' },
});
const tools = [tool('read_file'), tool('write_file'), tool('task_complete')];

const user = (text: string): LanguageModelV4Message => ({ role: 'user', content: [{ type: 'text', text }] });
const assistantCall = (id: string): LanguageModelV4Message => ({
  role: 'assistant',
  content: [{ type: 'tool-call', toolCallId: id, toolName: 'read_file', input: { path: id } }],
});
const toolResult = (id: string): LanguageModelV4Message => ({
  role: 'tool',
  content: [
    { type: 'tool-result', toolCallId: id, toolName: 'read_file', output: { type: 'text', value: id } },
  ],
});

function markedIndexes(messages: LanguageModelV4Message[]): number[] {
  return messages.flatMap((message, index) => (message.providerOptions === undefined ? [] : [index]));
}

describe('markCacheBreakpoints', () => {
  it('marks tools, system and the tail on the first call', () => {
    const { prompt, tools: marked } = markCacheBreakpoints('system prompt', [user('goal')], tools);
    expect(prompt[0]).toEqual({
      role: 'system',
      content: 'system prompt',
      providerOptions: CACHE_BREAKPOINT,
    });
    expect(markedIndexes(prompt)).toEqual([0, 1]);
    expect(marked.map((entry) => entry.providerOptions)).toEqual([undefined, undefined, CACHE_BREAKPOINT]);
  });

  it("marks the previous call's tail and the new tail, four breakpoints in all", () => {
    const history = [user('goal'), assistantCall('a'), toolResult('a'), assistantCall('b'), toolResult('b')];
    const { prompt, tools: marked } = markCacheBreakpoints('system', history, tools);
    // prompt[0] is the system prompt; history index i is prompt index i + 1.
    expect(markedIndexes(prompt)).toEqual([0, 3, 5]);
    const breakpoints =
      markedIndexes(prompt).length + marked.filter((entry) => entry.providerOptions !== undefined).length;
    expect(breakpoints).toBe(4);
  });

  it('finds the previous tail across a nudge that followed a text-only answer', () => {
    const history = [
      user('goal'),
      { role: 'assistant', content: [{ type: 'text', text: 'thinking' }] } satisfies LanguageModelV4Message,
      user('call a tool'),
    ];
    expect(markedIndexes(markCacheBreakpoints('system', history, tools).prompt)).toEqual([0, 1, 3]);
  });

  it('leaves the conversation itself unmarked, so breakpoints do not pile up in the history', () => {
    const history = [user('goal'), assistantCall('a'), toolResult('a')];
    const before = structuredClone(history);
    markCacheBreakpoints('system', history, tools);
    expect(history).toEqual(before);
    expect(tools.every((entry) => entry.providerOptions === undefined)).toBe(true);
  });

  it('keeps provider options a message already had', () => {
    const history: LanguageModelV4Message[] = [
      { ...user('goal'), providerOptions: { anthropic: { citations: true }, other: { a: 1 } } },
    ];
    expect(markCacheBreakpoints('system', history, tools).prompt[1]?.providerOptions).toEqual({
      anthropic: { citations: true, cacheControl: { type: 'ephemeral' } },
      other: { a: 1 },
    });
  });

  it('is only for providers that cache up to explicit breakpoints', () => {
    expect(usesCacheBreakpoints('anthropic')).toBe(true);
    for (const provider of ['openai', 'openai-compatible', 'ollama', 'scripted']) {
      expect(usesCacheBreakpoints(provider)).toBe(false);
    }
  });
});
