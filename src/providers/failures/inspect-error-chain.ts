import type { ResponseHeaders } from './parse-retry-after.ts';

/**
 * The AI SDK wraps provider failures (RetryError → lastError, NoOutputGeneratedError → cause,
 * APICallError → cause for network errors). These helpers walk that chain without trusting any
 * particular class, because the same failure can arrive as an APICallError (HTTP status), a
 * StreamProviderError or a plain object (an error event inside an SSE stream), or a bare
 * TypeError from fetch.
 */
export function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && chain.length < 20) {
    const item = pending.shift();
    if (item === undefined || item === null || chain.includes(item)) continue;
    chain.push(item);
    const errors = property(item, 'errors');
    pending.push(
      property(item, 'lastError'),
      property(item, 'cause'),
      ...(Array.isArray(errors) ? [...errors].reverse() : []),
    );
  }
  return chain;
}

export function property(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

export function stringProperty(value: unknown, name: string): string | undefined {
  const found = property(value, name);
  return typeof found === 'string' ? found : undefined;
}

/** What a provider said about a failed HTTP call, from whichever shape it arrived in. */
export interface HttpFailureDetails {
  statusCode: number;
  headers: ResponseHeaders;
  /** Provider error type, e.g. `rate_limit_error`, `overloaded_error`, `invalid_request_error`. */
  errorType: string | undefined;
  /** Provider error code, e.g. OpenAI's `insufficient_quota`, `model_not_found`, `invalid_api_key`. */
  errorCode: string | undefined;
  /** The provider's own message, when it sent one. */
  providerMessage: string;
}

/**
 * The HTTP status an in-stream error event stands for, when the provider sent none (an OpenAI
 * Chat Completions error chunk carries only a type). Unknown in-stream errors count as server
 * errors: the call had already been accepted, so the failure is on the provider's side.
 */
const STATUS_BY_STREAM_ERROR_TYPE: Readonly<Record<string, number>> = {
  overloaded_error: 529,
  api_error: 500,
  server_error: 500,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  billing_error: 402,
  authentication_error: 401,
  invalid_api_key: 401,
  permission_error: 403,
  not_found_error: 404,
  model_not_found: 404,
  request_too_large: 413,
  invalid_request_error: 400,
};

export function findHttpFailure(chain: readonly unknown[]): HttpFailureDetails | undefined {
  for (const item of chain) {
    const statusCode = statusCodeOf(item);
    // A 200 whose body then failed (a stream cut mid-way) is not an HTTP failure: look deeper.
    if (statusCode === undefined || statusCode < 400) continue;
    const body = parseBody(property(item, 'responseBody')) ?? property(item, 'data');
    // Anthropic: { type: 'error', error: { type, message } }; OpenAI: { error: { type, code, message } }.
    const nestedError = property(body, 'error');
    const bodyError = typeof nestedError === 'object' && nestedError !== null ? nestedError : body;
    return {
      statusCode,
      headers: headersOf(property(item, 'responseHeaders')),
      errorType: stringProperty(bodyError, 'type') ?? stringProperty(item, 'type'),
      errorCode: stringOrNumber(property(bodyError, 'code')) ?? stringOrNumber(property(item, 'code')),
      providerMessage:
        stringProperty(bodyError, 'message') ??
        (typeof nestedError === 'string' ? nestedError : undefined) ??
        stringProperty(item, 'message') ??
        '',
    };
  }
  return undefined;
}

function statusCodeOf(item: unknown): number | undefined {
  const statusCode = property(item, 'statusCode');
  if (typeof statusCode === 'number') return statusCode;
  if (stringProperty(item, 'name') !== 'AI_StreamProviderError') return undefined;
  const kind = stringProperty(item, 'type') ?? stringProperty(item, 'code');
  return (kind === undefined ? undefined : STATUS_BY_STREAM_ERROR_TYPE[kind]) ?? 500;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body);
  } catch (error) {
    // A non-JSON error page (a proxy's HTML, a plain-text 502) is normal: keep its text as the message.
    if (error instanceof SyntaxError) return { message: body.slice(0, 500) };
    throw error;
  }
}

function headersOf(value: unknown): ResponseHeaders {
  if (typeof value !== 'object' || value === null) return {};
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue === 'string') headers[name.toLowerCase()] = headerValue;
  }
  return headers;
}

function stringOrNumber(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : undefined;
}
