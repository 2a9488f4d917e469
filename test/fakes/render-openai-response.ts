import { type FakeTurn, splitJson, splitText } from './fake-reply.ts';
import type { ServerSentEvent } from './fake-http-server.ts';
import {
  CREATED_AT_SECONDS,
  promptTokensOf,
  type RenderedToolCall,
  toolCallsOf,
} from './fake-openai-turn.ts';

/**
 * A turn as the Responses API sends it: typed events (response.created, output_item.added,
 * output_text.delta, function_call_arguments.delta, output_item.done, response.completed with
 * usage), each with its sequence_number, or one `response` object.
 */
function responseObject(
  turn: FakeTurn,
  model: string,
  callNumber: number,
  status: 'in_progress' | 'completed',
) {
  const tokens = promptTokensOf(turn);
  return {
    id: `resp_fake_${callNumber}`,
    object: 'response',
    created_at: CREATED_AT_SECONDS,
    status,
    error: null,
    incomplete_details: null,
    model,
    output: [] as unknown[],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    usage:
      status === 'in_progress'
        ? null
        : {
            input_tokens: tokens.total,
            input_tokens_details: { cached_tokens: tokens.cached },
            output_tokens: tokens.output,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: tokens.total + tokens.output,
          },
  };
}

function messageItem(turn: FakeTurn, callNumber: number, status: 'in_progress' | 'completed') {
  return {
    id: `msg_fake_${callNumber}`,
    type: 'message',
    status,
    role: 'assistant',
    content:
      status === 'in_progress'
        ? []
        : [{ type: 'output_text', text: turn.text ?? '', annotations: [], logprobs: [] }],
  };
}

function functionCallItem(toolCall: RenderedToolCall, status: 'in_progress' | 'completed') {
  if (toolCall.freeformInput !== undefined) {
    return {
      id: toolCall.itemId,
      type: 'custom_tool_call',
      status,
      input: status === 'in_progress' ? '' : toolCall.freeformInput,
      call_id: toolCall.callId,
      name: toolCall.name,
    };
  }
  return {
    id: toolCall.itemId,
    type: 'function_call',
    status,
    arguments: status === 'in_progress' ? '' : toolCall.arguments,
    call_id: toolCall.callId,
    name: toolCall.name,
    ...(toolCall.namespace === undefined ? {} : { namespace: toolCall.namespace }),
  };
}

function responseOutput(turn: FakeTurn, callNumber: number): unknown[] {
  const output: unknown[] = [];
  if (turn.text !== undefined) output.push(messageItem(turn, callNumber, 'completed'));
  for (const toolCall of toolCallsOf(turn, callNumber)) output.push(functionCallItem(toolCall, 'completed'));
  return output;
}

export function responseEvents(turn: FakeTurn, model: string, callNumber: number): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const event = (type: string, data: Record<string, unknown>) =>
    events.push({ event: type, data: { type, sequence_number: events.length, ...data } });

  const inProgress = responseObject(turn, model, callNumber, 'in_progress');
  event('response.created', { response: inProgress });
  event('response.in_progress', { response: inProgress });
  let outputIndex = 0;
  if (turn.text !== undefined) {
    const itemId = `msg_fake_${callNumber}`;
    const part = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    event('response.output_item.added', {
      output_index: outputIndex,
      item: messageItem(turn, callNumber, 'in_progress'),
    });
    event('response.content_part.added', {
      ...part,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    for (const delta of splitText(turn.text))
      event('response.output_text.delta', { ...part, delta, logprobs: [] });
    event('response.output_text.done', { ...part, text: turn.text, logprobs: [] });
    event('response.content_part.done', {
      ...part,
      part: { type: 'output_text', text: turn.text, annotations: [] },
    });
    event('response.output_item.done', {
      output_index: outputIndex,
      item: messageItem(turn, callNumber, 'completed'),
    });
    outputIndex += 1;
  }
  for (const toolCall of toolCallsOf(turn, callNumber)) {
    const where = { item_id: toolCall.itemId, output_index: outputIndex };
    event('response.output_item.added', {
      output_index: outputIndex,
      item: functionCallItem(toolCall, 'in_progress'),
    });
    if (toolCall.freeformInput === undefined) {
      for (const delta of splitJson(toolCall.arguments))
        event('response.function_call_arguments.delta', { ...where, delta });
      event('response.function_call_arguments.done', { ...where, arguments: toolCall.arguments });
    } else {
      event('response.custom_tool_call_input.delta', { ...where, delta: toolCall.freeformInput });
      event('response.custom_tool_call_input.done', { ...where, input: toolCall.freeformInput });
    }
    event('response.output_item.done', {
      output_index: outputIndex,
      item: functionCallItem(toolCall, 'completed'),
    });
    outputIndex += 1;
  }
  event('response.completed', {
    response: {
      ...responseObject(turn, model, callNumber, 'completed'),
      output: responseOutput(turn, callNumber),
    },
  });
  return events;
}

export function responseBody(turn: FakeTurn, model: string, callNumber: number) {
  return {
    ...responseObject(turn, model, callNumber, 'completed'),
    output: responseOutput(turn, callNumber),
  };
}
