import type { LanguageModelV4Message, LanguageModelV4ToolResultPart } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { fitToolOutputsToBudget, rememberFullOutputPath } from './fit-tool-outputs-to-budget.ts';

/** One step of a conversation: the model's call, then the tool's result of `characters` characters. */
function step(id: string, characters: number, isError = false): LanguageModelV4Message[] {
  return [
    {
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: id, toolName: 'run_command', input: { id } }],
    },
    {
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: id,
          toolName: 'run_command',
          output: { type: isError ? 'error-text' : 'text', value: `${id}:`.padEnd(characters, 'x') },
        },
      ],
    },
  ];
}

function resultOf(messages: LanguageModelV4Message[], id: string): LanguageModelV4ToolResultPart {
  for (const message of messages) {
    if (message.role !== 'tool') continue;
    for (const part of message.content)
      if (part.type === 'tool-result' && part.toolCallId === id) return part;
  }
  throw new Error(`no result for ${id}`);
}

const textOf = (messages: LanguageModelV4Message[], id: string): string => {
  const output = resultOf(messages, id).output;
  return output.type === 'text' || output.type === 'error-text' ? output.value : '';
};

const goal: LanguageModelV4Message = { role: 'user', content: [{ type: 'text', text: 'GOAL' }] };

describe('fitToolOutputsToBudget', () => {
  it('leaves a conversation within budget untouched', () => {
    const messages = [goal, ...step('a', 8_000), ...step('b', 8_000)];
    const before = structuredClone(messages);
    expect(fitToolOutputsToBudget(messages, 10_000)).toBe(0);
    expect(messages).toEqual(before);
  });

  it('shortens the oldest outputs first, down to half the budget, never the latest results', () => {
    // Four outputs of 2,000 tokens each against a 5,000-token budget.
    const messages = [
      goal,
      ...step('a', 8_000),
      ...step('b', 8_000),
      ...step('c', 8_000),
      ...step('d', 8_000),
    ];
    expect(fitToolOutputsToBudget(messages, 5_000)).toBe(3);
    expect(textOf(messages, 'a').length).toBeLessThan(1_300);
    expect(textOf(messages, 'b').length).toBeLessThan(1_300);
    expect(textOf(messages, 'c').length).toBeLessThan(1_300);
    expect(textOf(messages, 'd')).toHaveLength(8_000);
  });

  it('stops as soon as the outputs fit in half the budget, keeping newer outputs whole', () => {
    const messages = [goal, ...step('a', 20_000), ...step('b', 4_000), ...step('c', 4_000)];
    expect(fitToolOutputsToBudget(messages, 6_000)).toBe(1);
    expect(textOf(messages, 'b')).toHaveLength(4_000);
  });

  it('tells the model what was cut, keeps head and tail, and names the full output when one was kept', () => {
    const messages = [goal, ...step('a', 10_000), ...step('b', 10_000, true), ...step('c', 100)];
    rememberFullOutputPath(resultOf(messages, 'a'), '.loki/logs/tool-output/t1/a-run_command.txt');
    fitToolOutputsToBudget(messages, 1_000);
    const first = textOf(messages, 'a');
    expect(first.startsWith('a:xxx')).toBe(true);
    expect(first).toContain(
      '[... 9000 of 10000 characters of this older tool output were cut to keep the conversation ' +
        'within its context budget; the full output is in .loki/logs/tool-output/t1/a-run_command.txt ...]',
    );
    expect(textOf(messages, 'b')).toContain('it was not kept; run the tool again if you need it');
    // An error stays an error for the model.
    expect(resultOf(messages, 'b').output.type).toBe('error-text');
  });

  it('is stable: a second pass over the same history changes nothing, so the cached prefix holds', () => {
    const messages = [goal, ...step('a', 40_000), ...step('b', 40_000), ...step('c', 100)];
    fitToolOutputsToBudget(messages, 8_000);
    const after = structuredClone(messages);
    messages.push(...step('d', 100));
    expect(fitToolOutputsToBudget(messages, 8_000)).toBe(0);
    expect(messages.slice(0, after.length)).toEqual(after);
  });
});
