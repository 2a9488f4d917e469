import type { FakeHttpFault } from './fake-reply.ts';

/** An error answer in the OpenAI shape: `{ error: { message, type, param, code } }`. */
export function openAIError(
  status: number,
  message: string,
  errorType: string,
  code: string | null,
  headers: Record<string, string> = {},
): FakeHttpFault {
  return { type: 'fault', status, headers, body: { error: { message, type: errorType, param: null, code } } };
}

/** The OpenAI API's error answers, with the bodies and headers it really sends. */
export const openAIFaults = {
  /** 429 with `retry-after` (seconds) and/or `retry-after-ms`, and the request limit shown exhausted. */
  rateLimited(options: { retryAfterSeconds?: number; retryAfterMilliseconds?: number } = {}): FakeHttpFault {
    const headers: Record<string, string> = {
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '20s',
    };
    if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
    if (options.retryAfterMilliseconds !== undefined)
      headers['retry-after-ms'] = String(options.retryAfterMilliseconds);
    return openAIError(
      429,
      'Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.',
      'requests',
      'rate_limit_exceeded',
      headers,
    );
  },
  insufficientQuota(): FakeHttpFault {
    return openAIError(
      429,
      'You exceeded your current quota, please check your plan and billing details.',
      'insufficient_quota',
      'insufficient_quota',
    );
  },
  serverError(status = 500): FakeHttpFault {
    return openAIError(
      status,
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
      null,
    );
  },
  overloaded(): FakeHttpFault {
    return openAIError(
      503,
      'The engine is currently overloaded, please try again later.',
      'server_error',
      null,
    );
  },
  authentication(): FakeHttpFault {
    return openAIError(
      401,
      'Incorrect API key provided: sk-fake***. You can find your API key in your account settings.',
      'invalid_request_error',
      'invalid_api_key',
    );
  },
  modelNotFound(model: string): FakeHttpFault {
    return openAIError(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      'invalid_request_error',
      'model_not_found',
    );
  },
  badRequest(message: string): FakeHttpFault {
    return openAIError(400, message, 'invalid_request_error', null);
  },
};
