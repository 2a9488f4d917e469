import { type FakeTurn, splitJson, splitText } from './fake-reply.ts';
import type { ServerSentEvent } from './fake-http-server.ts';
import { CREATED_AT_SECONDS, promptTokensOf, toolCallsOf } from './fake-openai-turn.ts';

/**
 * A turn as the Chat Completions API sends it: data-only SSE chunks (role, content deltas,
 * tool_calls deltas with the arguments in pieces, the finish chunk, a usage chunk when the client
 * asked for `stream_options.include_usage`, then `[DONE]`), or one `chat.completion` object.
 */
function chatUsage(turn: FakeTurn) {
  const tokens = promptTokensOf(turn);
  return {
    prompt_tokens: tokens.total,
    completion_tokens: tokens.output,
    total_tokens: tokens.total + tokens.output,
    prompt_tokens_details: { cached_tokens: tokens.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function chatCompletionEvents(
  turn: FakeTurn,
  model: string,
  callNumber: number,
  includeUsage: boolean,
): ServerSentEvent[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): ServerSentEvent => ({
    data: {
      id: `chatcmpl-fake-${callNumber}`,
      object: 'chat.completion.chunk',
      created: CREATED_AT_SECONDS,
      model,
      system_fingerprint: 'fp_fake',
      choices,
      ...extra,
    },
  });
  const delta = (deltaValue: Record<string, unknown>, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: deltaValue, logprobs: null, finish_reason: finishReason }]);

  const events: ServerSentEvent[] = [delta({ role: 'assistant', content: '', refusal: null })];
  for (const content of splitText(turn.text ?? '')) events.push(delta({ content }));
  toolCallsOf(turn, callNumber).forEach((toolCall, index) => {
    events.push(
      delta({
        tool_calls: [
          { index, id: toolCall.callId, type: 'function', function: { name: toolCall.name, arguments: '' } },
        ],
      }),
    );
    for (const piece of splitJson(toolCall.arguments)) {
      events.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  events.push(delta({}, (turn.toolCalls ?? []).length > 0 ? 'tool_calls' : 'stop'));
  if (includeUsage) events.push(chunk([], { usage: chatUsage(turn) }));
  events.push({ data: '[DONE]' });
  return events;
}

export function chatCompletionBody(turn: FakeTurn, model: string, callNumber: number) {
  const toolCalls = toolCallsOf(turn, callNumber);
  return {
    id: `chatcmpl-fake-${callNumber}`,
    object: 'chat.completion',
    created: CREATED_AT_SECONDS,
    model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: turn.text ?? null,
          refusal: null,
          ...(toolCalls.length > 0
            ? {
                tool_calls: toolCalls.map((toolCall) => ({
                  id: toolCall.callId,
                  type: 'function',
                  function: { name: toolCall.name, arguments: toolCall.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: chatUsage(turn),
  };
}
