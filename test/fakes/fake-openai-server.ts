import { setTimeout as delay } from 'node:timers/promises';
import type { ServerResponse } from 'node:http';
import { type FakeHttpFault, type FakeReply, FakeReplyQueue } from './fake-reply.ts';
import {
  type FakeHttpServer,
  playEventStream,
  type RecordedRequest,
  sendJson,
  startFakeHttpServer,
} from './fake-http-server.ts';
import { openAIError, openAIFaults } from './openai-faults.ts';
import { chatCompletionBody, chatCompletionEvents } from './render-openai-chat-completion.ts';
import { responseBody, responseEvents } from './render-openai-response.ts';

export { openAIFaults } from './openai-faults.ts';

export interface FakeOpenAIServerOptions {
  /** When set, requests without `Authorization: Bearer <key>` get the API's 401. */
  expectedApiKey?: string;
  /** Answers every call once the queue is empty; without it such a call fails loudly. */
  defaultReply?: FakeReply;
  /**
   * Answers chosen requests before the queue is consulted, e.g. the small side calls an agent CLI
   * makes (titles, quota probes) so they do not consume the replies a test scripted for the task.
   */
  route?: (request: RecordedRequest) => FakeReply | undefined;
}

export interface FakeOpenAIServer extends FakeHttpServer {
  /** The API root with `/v1`, as `OPENAI_BASE_URL` holds it. */
  readonly baseUrl: string;
  enqueue(...replies: FakeReply[]): void;
  /** Model calls received on either endpoint, in order. */
  modelRequests(): RecordedRequest[];
}

/**
 * A local OpenAI API with both model endpoints: `POST /v1/chat/completions` (data-only SSE chunks
 * with content and tool_calls deltas, a usage chunk when `stream_options.include_usage`, then
 * `[DONE]`) and `POST /v1/responses` (typed Responses API events with function calls and
 * `response.completed` usage), plus non-streaming JSON for both and the API's error bodies.
 * One reply queue serves both: each reply is rendered in the protocol of the endpoint called.
 */
export async function startFakeOpenAIServer(
  options: FakeOpenAIServerOptions = {},
): Promise<FakeOpenAIServer> {
  const queue = new FakeReplyQueue(options.defaultReply);
  let callCount = 0;

  const server = await startFakeHttpServer(async (request, response) => {
    if (request.method === 'GET' && request.pathname === '/v1/models') {
      sendJson(response, 200, { object: 'list', data: [] });
      return;
    }
    const isChat = request.pathname === '/v1/chat/completions';
    if (request.method !== 'POST' || (!isChat && request.pathname !== '/v1/responses')) {
      sendFault(
        response,
        openAIError(
          404,
          `Invalid URL (${request.method} ${request.pathname})`,
          'invalid_request_error',
          null,
        ),
      );
      return;
    }
    const refusal = checkRequest(request, options.expectedApiKey, isChat);
    if (refusal !== undefined) {
      sendFault(response, refusal);
      return;
    }
    const reply = options.route?.(request) ?? queue.next();
    if (reply === undefined) {
      sendFault(
        response,
        openAIError(500, 'fake OpenAI server: no reply queued for this call', 'server_error', null),
      );
      return;
    }
    if (reply.type === 'hang') return;
    if (reply.type === 'fault') {
      sendFault(response, reply);
      return;
    }
    if (reply.delayMilliseconds !== undefined) await delay(reply.delayMilliseconds);
    await reply.heldUntil;
    callCount += 1;
    const body = request.body as {
      model: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const model = reply.model ?? body.model;
    const headers = { 'x-request-id': `req_fake_${callCount}` };
    if (isChat) {
      if (body.stream === true) {
        const events = chatCompletionEvents(
          reply,
          model,
          callCount,
          body.stream_options?.include_usage === true,
        );
        playEventStream(response, events, {
          fault: reply.streamFault,
          headers,
          errorEvent: (errorType, message) => ({
            data: { error: { message, type: errorType, param: null, code: null } },
          }),
          malformedEvent: {
            data: '{"id":"chatcmpl-fake","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"cont',
          },
        });
      } else {
        sendJson(response, 200, chatCompletionBody(reply, model, callCount), headers);
      }
      return;
    }
    if (body.stream === true) {
      playEventStream(response, responseEvents(reply, model, callCount), {
        fault: reply.streamFault,
        headers,
        errorEvent: (errorType, message) => ({
          event: 'error',
          data: { type: 'error', code: errorType, message, param: null, sequence_number: 0 },
        }),
        malformedEvent: {
          event: 'response.output_text.delta',
          data: '{"type":"response.output_text.delta","item_id":"msg_',
        },
      });
    } else {
      sendJson(response, 200, responseBody(reply, model, callCount), headers);
    }
  });

  return {
    ...server,
    baseUrl: `${server.url}/v1`,
    enqueue: (...replies) => queue.enqueue(...replies),
    modelRequests: () => server.requests.filter((request) => request.method === 'POST'),
  };
}

function checkRequest(
  request: RecordedRequest,
  expectedApiKey: string | undefined,
  isChat: boolean,
): FakeHttpFault | undefined {
  if (expectedApiKey !== undefined && request.headers.authorization !== `Bearer ${expectedApiKey}`) {
    return openAIFaults.authentication();
  }
  const body = request.body;
  if (typeof body !== 'object' || body === null) {
    return openAIFaults.badRequest('We could not parse the JSON body of your request.');
  }
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string') return openAIFaults.badRequest('you must provide a model parameter');
  if (isChat && !Array.isArray(fields.messages))
    return openAIFaults.badRequest("Missing required parameter: 'messages'.");
  if (!isChat && fields.input === undefined)
    return openAIFaults.badRequest("Missing required parameter: 'input'.");
  return undefined;
}

function sendFault(response: ServerResponse, fault: FakeHttpFault): void {
  sendJson(response, fault.status, fault.body, { 'x-request-id': 'req_fake_fault', ...fault.headers });
}
