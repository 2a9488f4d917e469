import { DEFAULT_FAKE_USAGE, type FakeTurn } from './fake-reply.ts';

/** Fixed so transcripts are deterministic: 2026-01-01T00:00:00Z. */
export const CREATED_AT_SECONDS = 1_767_225_600;

export interface RenderedToolCall {
  callId: string;
  itemId: string;
  name: string;
  arguments: string;
  namespace?: string;
  freeformInput?: string;
}

export function toolCallsOf(turn: FakeTurn, callNumber: number): RenderedToolCall[] {
  return (turn.toolCalls ?? []).map((toolCall, index) => ({
    callId: toolCall.id ?? `call_fake_${callNumber}_${index + 1}`,
    itemId: `fc_fake_${callNumber}_${index + 1}`,
    name: toolCall.name,
    arguments: JSON.stringify(toolCall.input),
    ...(toolCall.namespace === undefined ? {} : { namespace: toolCall.namespace }),
    ...(toolCall.freeformInput === undefined ? {} : { freeformInput: toolCall.freeformInput }),
  }));
}

/** OpenAI counts cached tokens inside the prompt total; the fake's usage counts them apart. */
export function promptTokensOf(turn: FakeTurn): { total: number; cached: number; output: number } {
  const usage = turn.usage ?? DEFAULT_FAKE_USAGE;
  const cached = usage.cacheReadTokens ?? 0;
  return { total: usage.inputTokens + cached, cached, output: usage.outputTokens };
}
