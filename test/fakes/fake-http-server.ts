import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeStreamFault } from './fake-reply.ts';

/** One request as the fake received it, so tests can assert what the real client sent. */
export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/messages?beta=true` (Claude Code adds the query). */
  path: string;
  /** Path without query, for routing and assertions. */
  pathname: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body parsed as JSON, or undefined when it was empty or not JSON. */
  body: unknown;
  rawBody: string;
  /** When the request arrived (epoch ms), before its body was read. */
  receivedAt: number;
}

export type FakeRequestHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/** Requests whose answer has not ended yet: now, and the most there ever were at once. */
export interface InFlightRequests {
  current: number;
  highest: number;
}

export interface FakeHttpServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Counted from arrival until the response is closed (a stream counts until its last byte). */
  readonly inFlight: InFlightRequests;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 and a random port, so the client under test runs its real fetch,
 * headers, SSE parsing and error handling. Every request is recorded before it is answered.
 */
export async function startFakeHttpServer(handle: FakeRequestHandler): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  const inFlight: InFlightRequests = { current: 0, highest: 0 };
  const server = createServer((incoming, response) => {
    inFlight.current += 1;
    inFlight.highest = Math.max(inFlight.highest, inFlight.current);
    response.once('close', () => {
      inFlight.current -= 1;
    });
    void answer(incoming, response);
  });

  async function answer(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const request = await record(incoming, Date.now());
    requests.push(request);
    try {
      await handle(request, response);
    } catch (error) {
      // A bug in the fake must fail the test loudly, not look like a provider fault.
      console.error('fake server handler failed:', error);
      if (!response.headersSent) response.writeHead(599, { 'content-type': 'text/plain' });
      response.end(`fake server handler failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve, reject) => {
      // Hanging replies keep sockets open; they MUST be destroyed or close() never resolves.
      server.closeAllConnections();
      server.close((error) => (error === undefined ? resolve() : reject(error)));
    });
    return closed;
  };
  return { url: `http://127.0.0.1:${port}`, requests, inFlight, close, [Symbol.asyncDispose]: close };
}

async function record(incoming: IncomingMessage, receivedAt: number): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const rawBody = Buffer.concat(chunks).toString('utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const path = incoming.url ?? '/';
  return {
    method: incoming.method ?? 'GET',
    path,
    pathname: new URL(path, 'http://fake').pathname,
    headers,
    body: parseJson(rawBody),
    rawBody,
    receivedAt,
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    // Not JSON: the route decides how to answer (the real APIs send a 400).
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  response.writeHead(status, { 'content-type': contentType, ...headers });
  response.end(text);
}

/** One server-sent event; `event` is omitted for data-only streams (OpenAI Chat Completions). */
export interface ServerSentEvent {
  event?: string;
  /** Serialised as JSON, unless it is already a string (`[DONE]`, or a deliberately broken payload). */
  data: unknown;
}

export function startEventStream(response: ServerResponse, headers: Record<string, string> = {}): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
}

export function writeEvent(response: ServerResponse, event: ServerSentEvent): void {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  response.write(`${event.event === undefined ? '' : `event: ${event.event}\n`}data: ${data}\n\n`);
}

export interface PlayEventStreamOptions {
  fault?: FakeStreamFault;
  /** The protocol's in-stream error event for an `error-event` fault. */
  errorEvent: (errorType: string, message: string) => ServerSentEvent;
  /** An event cut off mid-JSON, in the protocol's framing, for a `malformed` fault. */
  malformedEvent: ServerSentEvent;
  headers?: Record<string, string>;
}

/** Writes a whole event stream, or its first events followed by the requested fault. */
export function playEventStream(
  response: ServerResponse,
  events: readonly ServerSentEvent[],
  options: PlayEventStreamOptions,
): void {
  startEventStream(response, options.headers);
  const fault = options.fault;
  const played = fault === undefined ? events : events.slice(0, fault.afterEvents);
  for (const event of played) writeEvent(response, event);
  if (fault === undefined) {
    response.end();
    return;
  }
  switch (fault.kind) {
    case 'cut':
      // end() on the socket flushes what was written, then closes without the final chunk.
      response.socket?.end();
      return;
    case 'malformed':
      writeEvent(response, options.malformedEvent);
      response.end();
      return;
    case 'error-event':
      writeEvent(response, options.errorEvent(fault.errorType, fault.message));
      response.end();
      return;
  }
}
