import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { AnthropicPromptCache, type AnthropicPromptCacheOptions } from './anthropic-prompt-cache.ts';
import {
  DEFAULT_FAKE_USAGE,
  type FakeHttpFault,
  type FakeReply,
  FakeReplyQueue,
  type FakeTurn,
  type FakeUsage,
  splitJson,
  splitText,
} from './fake-reply.ts';
import {
  type FakeHttpServer,
  playEventStream,
  type RecordedRequest,
  sendJson,
  type ServerSentEvent,
  startFakeHttpServer,
} from './fake-http-server.ts';

export interface FakeAnthropicServerOptions {
  /** When set, requests without this key (`x-api-key` or a bearer token) get a 401, like the real API. */
  expectedApiKey?: string;
  /** Answers every call once the queue is empty; without it such a call fails loudly. */
  defaultReply?: FakeReply;
  /**
   * Answers chosen requests before the queue is consulted, e.g. the small side calls an agent CLI
   * makes (titles, quota probes) so they do not consume the replies a test scripted for the task.
   */
  route?: (request: RecordedRequest) => FakeReply | undefined;
  /** The prompt cache's clock and minimum cacheable length (see AnthropicPromptCache). */
  promptCache?: AnthropicPromptCacheOptions;
}

export interface FakeAnthropicServer extends FakeHttpServer {
  /** The API root without `/v1`: what `ANTHROPIC_BASE_URL` holds for Claude Code and for Loki. */
  readonly baseUrl: string;
  enqueue(...replies: FakeReply[]): void;
  /** The POST /v1/messages requests received, in order. */
  messageRequests(): RecordedRequest[];
}

/**
 * A local Anthropic Messages API: `POST /v1/messages` streaming (SSE: message_start, ping,
 * content_block_start/delta/stop with text_delta and input_json_delta, message_delta with usage
 * and stop_reason, message_stop) or not (one JSON message), `POST /v1/messages/count_tokens`,
 * and the API's error bodies. Anything else gets the API's 404.
 *
 * Usage: a turn's scripted usage is reported as scripted. An unscripted turn of a request with
 * `cache_control` breakpoints is billed by the documented prompt-cache rules (input split into
 * uncached, cache-read and cache-write tokens, output estimated from the reply); without
 * breakpoints it reports DEFAULT_FAKE_USAGE. Every request with breakpoints updates the cache.
 */
export async function startFakeAnthropicServer(
  options: FakeAnthropicServerOptions = {},
): Promise<FakeAnthropicServer> {
  const queue = new FakeReplyQueue(options.defaultReply);
  const promptCache = new AnthropicPromptCache(options.promptCache);
  let messageCount = 0;

  const server = await startFakeHttpServer(async (request, response) => {
    if (request.method === 'POST' && request.pathname === '/v1/messages/count_tokens') {
      sendJson(response, 200, { input_tokens: Math.ceil(request.rawBody.length / 4) });
      return;
    }
    if (request.method !== 'POST' || request.pathname !== '/v1/messages') {
      sendAnthropicError(
        response,
        404,
        'not_found_error',
        `Not found: ${request.method} ${request.pathname}`,
      );
      return;
    }
    const refusal = checkRequest(request, options.expectedApiKey);
    if (refusal !== undefined) {
      sendFault(response, refusal);
      return;
    }
    const reply = options.route?.(request) ?? queue.next();
    if (reply === undefined) {
      sendAnthropicError(response, 500, 'api_error', 'fake Anthropic server: no reply queued for this call');
      return;
    }
    if (reply.type === 'hang') return;
    if (reply.type === 'fault') {
      sendFault(response, reply);
      return;
    }
    if (reply.delayMilliseconds !== undefined) await delay(reply.delayMilliseconds);
    await reply.heldUntil;
    messageCount += 1;
    const body = request.body as { model: string; stream?: boolean };
    const cacheAccount = promptCache.account(request.body as Record<string, unknown>, body.model);
    const message = renderMessage(reply, reply.model ?? body.model, messageCount, (content) =>
      cacheAccount === undefined
        ? DEFAULT_FAKE_USAGE
        : { ...cacheAccount, outputTokens: Math.max(1, Math.ceil(JSON.stringify(content).length / 4)) },
    );
    if (body.stream === true) {
      playEventStream(response, messageEvents(message), {
        fault: reply.streamFault,
        headers: { 'request-id': `req_fake_${messageCount}` },
        errorEvent: (errorType, text) => ({
          event: 'error',
          data: { type: 'error', error: { type: errorType, message: text } },
        }),
        malformedEvent: {
          event: 'content_block_delta',
          data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_de',
        },
      });
      return;
    }
    sendJson(response, 200, message, { 'request-id': `req_fake_${messageCount}` });
  });

  return {
    ...server,
    baseUrl: server.url,
    enqueue: (...replies) => queue.enqueue(...replies),
    messageRequests: () => server.requests.filter((request) => request.pathname === '/v1/messages'),
  };
}

/** The validation the real API does before anything else: auth, version header, required fields. */
function checkRequest(
  request: RecordedRequest,
  expectedApiKey: string | undefined,
): FakeHttpFault | undefined {
  if (expectedApiKey !== undefined) {
    const presented =
      request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (presented !== expectedApiKey) return anthropicFaults.authentication();
  }
  if (request.headers['anthropic-version'] === undefined) {
    return anthropicFaults.invalidRequest('anthropic-version: header is required');
  }
  const body = request.body;
  if (typeof body !== 'object' || body === null) {
    return anthropicFaults.invalidRequest(
      'There was an issue with your request body: expected a JSON object',
    );
  }
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string') return anthropicFaults.invalidRequest('model: Field required');
  if (typeof fields.max_tokens !== 'number')
    return anthropicFaults.invalidRequest('max_tokens: Field required');
  if (!Array.isArray(fields.messages)) return anthropicFaults.invalidRequest('messages: Field required');
  return undefined;
}

interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<
    | { type: 'text'; text: string }
    | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  >;
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: {
    input_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
    output_tokens: number;
    service_tier: 'standard';
  };
}

function renderMessage(
  turn: FakeTurn,
  model: string,
  messageNumber: number,
  unscriptedUsage: (content: AnthropicMessage['content']) => FakeUsage,
): AnthropicMessage {
  const content: AnthropicMessage['content'] = [];
  if (turn.text !== undefined) content.push({ type: 'text', text: turn.text });
  (turn.toolCalls ?? []).forEach((toolCall, index) => {
    content.push({
      type: 'tool_use',
      id: toolCall.id ?? `toolu_fake_${messageNumber}_${index + 1}`,
      name: toolCall.name,
      input: toolCall.input,
    });
  });
  const usage = turn.usage ?? unscriptedUsage(content);
  return {
    id: `msg_fake_${messageNumber}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: (turn.toolCalls ?? []).length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: usage.inputTokens,
      cache_creation_input_tokens: usage.cacheWriteTokens ?? 0,
      cache_read_input_tokens: usage.cacheReadTokens ?? 0,
      output_tokens: usage.outputTokens,
      service_tier: 'standard',
    },
  };
}

function messageEvents(message: AnthropicMessage): ServerSentEvent[] {
  const event = (type: string, data: Record<string, unknown>): ServerSentEvent => ({
    event: type,
    data: { type, ...data },
  });
  const events: ServerSentEvent[] = [
    // The real API reports input usage up front and output_tokens: 1 until message_delta.
    event('message_start', {
      message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
    }),
    event('ping', {}),
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const text of splitText(block.text)) {
        events.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
      }
    } else {
      events.push(
        event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        }),
      );
      for (const partialJson of ['', ...splitJson(JSON.stringify(block.input))]) {
        events.push(
          event('content_block_delta', {
            index,
            delta: { type: 'input_json_delta', partial_json: partialJson },
          }),
        );
      }
    }
    events.push(event('content_block_stop', { index }));
  });
  events.push(
    event('message_delta', {
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    }),
    event('message_stop', {}),
  );
  return events;
}

function sendFault(response: ServerResponse, fault: FakeHttpFault): void {
  sendJson(response, fault.status, fault.body, { 'request-id': 'req_fake_fault', ...fault.headers });
}

function sendAnthropicError(
  response: ServerResponse,
  status: number,
  errorType: string,
  message: string,
): void {
  sendFault(response, anthropicError(status, errorType, message));
}

function anthropicError(
  status: number,
  errorType: string,
  message: string,
  headers: Record<string, string> = {},
): FakeHttpFault {
  return {
    type: 'fault',
    status,
    headers: { 'x-should-retry': String(status === 429 || status >= 500), ...headers },
    body: { type: 'error', error: { type: errorType, message }, request_id: 'req_fake_fault' },
  };
}

/** The Anthropic API's error answers, with the bodies and headers it really sends. */
export const anthropicFaults = {
  /** 429 with `retry-after` (seconds) and the rate-limit headers showing the exhausted limit. */
  rateLimited(
    options: { retryAfterSeconds?: number; resetAt?: Date; headers?: Record<string, string> } = {},
  ): FakeHttpFault {
    const headers: Record<string, string> = { 'anthropic-ratelimit-requests-remaining': '0' };
    if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
    if (options.resetAt !== undefined)
      headers['anthropic-ratelimit-requests-reset'] = options.resetAt.toISOString();
    return anthropicError(
      429,
      'rate_limit_error',
      'Number of request tokens has exceeded your per-minute rate limit',
      {
        ...headers,
        ...options.headers,
      },
    );
  },
  overloaded(): FakeHttpFault {
    return anthropicError(529, 'overloaded_error', 'Overloaded');
  },
  serverError(status = 500): FakeHttpFault {
    return anthropicError(status, 'api_error', 'Internal server error');
  },
  authentication(): FakeHttpFault {
    return anthropicError(401, 'authentication_error', 'invalid x-api-key');
  },
  permission(): FakeHttpFault {
    return anthropicError(
      403,
      'permission_error',
      'Your API key does not have permission to use the specified resource.',
    );
  },
  modelNotFound(model: string): FakeHttpFault {
    return anthropicError(404, 'not_found_error', `model: ${model}`);
  },
  invalidRequest(message: string): FakeHttpFault {
    return anthropicError(400, 'invalid_request_error', message);
  },
  creditTooLow(): FakeHttpFault {
    return anthropicError(
      400,
      'invalid_request_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    );
  },
};
