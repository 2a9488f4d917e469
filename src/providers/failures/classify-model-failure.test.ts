import { APICallError } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import { classifyModelFailure } from './classify-model-failure.ts';

function httpError(
  statusCode: number,
  body: unknown,
  responseHeaders: Record<string, string> = {},
): APICallError {
  return new APICallError({
    message: 'provider error',
    url: 'https://api.example.test/v1/messages',
    requestBodyValues: {},
    statusCode,
    responseHeaders,
    responseBody: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const anthropicBody = (type: string, message: string) => ({ type: 'error', error: { type, message } });
const openAIBody = (type: string, code: string | null, message: string) => ({
  error: { type, code, message, param: null },
});

/** What Node's fetch throws when it cannot connect: a TypeError whose cause has the errno code. */
function fetchFailure(code: string): TypeError {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code }),
  });
}

describe('classifyModelFailure', () => {
  it('429 is rate limited, honouring retry-after', () => {
    const failure = classifyModelFailure(
      httpError(429, anthropicBody('rate_limit_error', 'slow down'), { 'retry-after': '12' }),
    );
    expect(failure).toMatchObject({
      category: 'rate_limited',
      code: 'PROVIDER_RATE_LIMITED',
      retryAfterMilliseconds: 12_000,
    });
    expect(failure.message).toContain('12 s');
  });

  it('429 with an HTTP-date retry-after is measured from the injected clock', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const retryAt = new Date(Date.UTC(2026, 0, 1) + 3000).toUTCString();
    const failure = classifyModelFailure(httpError(429, {}, { 'retry-after': retryAt }), { clock });
    expect(failure.retryAfterMilliseconds).toBe(3000);
  });

  it('429 insufficient_quota and 402 are permanent quota failures', () => {
    const quota = httpError(
      429,
      openAIBody('insufficient_quota', 'insufficient_quota', 'You exceeded your current quota'),
    );
    expect(classifyModelFailure(quota)).toMatchObject({ category: 'permanent', code: 'PROVIDER_QUOTA' });
    expect(classifyModelFailure(httpError(402, 'Payment Required'))).toMatchObject({
      code: 'PROVIDER_QUOTA',
    });
  });

  it('529, overloaded_error, and 500/502/503/504 are transient', () => {
    expect(
      classifyModelFailure(httpError(529, anthropicBody('overloaded_error', 'Overloaded'))),
    ).toMatchObject({
      category: 'transient',
      code: 'PROVIDER_OVERLOADED',
    });
    for (const status of [500, 502, 503, 504]) {
      expect(classifyModelFailure(httpError(status, '<html>Bad Gateway</html>'))).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_SERVER_ERROR',
      });
    }
  });

  it('401 and 403 are permanent and say which key to check', () => {
    const failure = classifyModelFailure(
      httpError(401, anthropicBody('authentication_error', 'invalid x-api-key')),
      {
        provider: 'anthropic',
      },
    );
    expect(failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH' });
    expect(failure.message).toMatch(/invalid x-api-key.*ANTHROPIC_API_KEY/);
    expect(classifyModelFailure(httpError(403, {}), { provider: 'openai' }).message).toContain(
      'OPENAI_API_KEY',
    );
  });

  it('an unknown or invalid model is permanent', () => {
    expect(
      classifyModelFailure(httpError(404, anthropicBody('not_found_error', 'model: claude-x'))),
    ).toMatchObject({
      code: 'PROVIDER_MODEL_UNKNOWN',
    });
    const invalid = httpError(400, openAIBody('invalid_request_error', null, 'invalid model ID'));
    expect(classifyModelFailure(invalid)).toMatchObject({
      category: 'permanent',
      code: 'PROVIDER_MODEL_UNKNOWN',
    });
  });

  it('any other 400 is a permanent bad request', () => {
    const failure = classifyModelFailure(
      httpError(400, anthropicBody('invalid_request_error', 'max_tokens: too large')),
    );
    expect(failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_BAD_REQUEST' });
    expect(failure.message).toContain('max_tokens: too large');
  });

  it('network errors are transient, however deeply wrapped', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED']) {
      expect(classifyModelFailure(fetchFailure(code))).toMatchObject({
        category: 'transient',
        code: 'PROVIDER_NETWORK',
      });
    }
    const wrapped = new Error('Failed after 3 attempts', { cause: fetchFailure('ECONNRESET') });
    expect(classifyModelFailure(wrapped).code).toBe('PROVIDER_NETWORK');
    expect(classifyModelFailure(new TypeError('fetch failed')).code).toBe('PROVIDER_NETWORK');
  });

  it('the AI SDK RetryError is classified by its last error', () => {
    const retryError = Object.assign(new Error('Failed after 3 attempts'), {
      name: 'AI_RetryError',
      lastError: httpError(401, {}),
      errors: [httpError(500, {}), httpError(401, {})],
    });
    expect(classifyModelFailure(retryError).code).toBe('PROVIDER_AUTH');
  });

  it('timeouts are transient; a cancellation is not retried', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyModelFailure(timeout)).toMatchObject({ category: 'transient', code: 'PROVIDER_TIMEOUT' });
    expect(classifyModelFailure('TimeoutError: The operation was aborted due to timeout').code).toBe(
      'PROVIDER_TIMEOUT',
    );
    const aborted = new DOMException('This operation was aborted', 'AbortError');
    expect(classifyModelFailure(aborted)).toMatchObject({ category: 'permanent', code: 'PROVIDER_ABORTED' });
  });

  it('an error event inside a stream is classified by its type', () => {
    const streamError = Object.assign(new Error('The server had an error'), {
      name: 'AI_StreamProviderError',
      type: 'server_error',
    });
    expect(classifyModelFailure(streamError)).toMatchObject({
      category: 'transient',
      code: 'PROVIDER_SERVER_ERROR',
    });
  });

  it("keeps a LokiError's own code, retryable or not", () => {
    const exhausted = new LokiError('script exhausted', {
      code: 'SCRIPTED_MODEL_EXHAUSTED',
      category: 'user',
    });
    expect(classifyModelFailure(exhausted)).toMatchObject({
      category: 'permanent',
      code: 'SCRIPTED_MODEL_EXHAUSTED',
    });
    const retryable = new LokiError('busy', {
      code: 'RUNTIME_BUSY',
      category: 'provider',
      isRetryable: true,
    });
    expect(classifyModelFailure(retryable).category).toBe('transient');
  });

  it('an unrecognised error is permanent, so a bug is never retried in a loop', () => {
    expect(classifyModelFailure(new RangeError('Invalid array length'))).toMatchObject({
      category: 'permanent',
      code: 'PROVIDER_UNEXPECTED_FAILURE',
    });
  });
});
