import {
  EmptyResponseBodyError,
  InvalidResponseDataError,
  JSONParseError,
  LoadAPIKeyError,
  NoSuchModelError,
  TypeValidationError,
} from '@ai-sdk/provider';
import { type Clock, systemClock } from '../../clock/index.ts';
import { isLokiError } from '../../errors/index.ts';
import {
  errorChain,
  findHttpFailure,
  type HttpFailureDetails,
  property,
  stringProperty,
} from './inspect-error-chain.ts';
import { parseRetryAfterMilliseconds } from './parse-retry-after.ts';
import type { ProviderName } from '../provider-name.ts';

/**
 * transient: try again after a backoff. rate_limited: try again after the provider's own wait
 * (the task goes back to the queue with a not-before time). permanent: retrying cannot help;
 * stop and tell the user what to fix.
 */
export type ModelFailureCategory = 'transient' | 'rate_limited' | 'permanent';

export interface ModelFailure {
  category: ModelFailureCategory;
  /** Stable code, e.g. PROVIDER_RATE_LIMITED, PROVIDER_AUTH, PROVIDER_OVERLOADED. */
  code: string;
  /** What the provider asked us to wait, when it said; the retry policy caps it. */
  retryAfterMilliseconds: number | null;
  /** One line for the user: what happened and, when permanent, what to fix. */
  message: string;
  /** The HTTP status, when the failure was an HTTP answer. */
  statusCode: number | null;
}

export interface ClassifyModelFailureOptions {
  /** Names the right API key variable in authentication messages. */
  provider?: ProviderName;
  /** For `retry-after` given as a date and for rate-limit reset times. */
  clock?: Clock;
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_ERROR_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** What undici and Node say when a connection fails or drops mid-response. */
const NETWORK_ERROR_MESSAGES = new Set(['fetch failed', 'terminated', 'socket hang up', 'other side closed']);

/**
 * Decides whether a failed model call is worth retrying, and how. Pure: it reads the error and
 * the clock, nothing else. Unrecognised errors are permanent, because retrying a bug in a loop
 * only burns budget; every provider failure we know of is recognised explicitly below.
 */
export function classifyModelFailure(
  error: unknown,
  options: ClassifyModelFailureOptions = {},
): ModelFailure {
  const chain = errorChain(error);
  const now = (options.clock ?? systemClock).now();

  const http = findHttpFailure(chain);
  if (http !== undefined) return classifyHttpFailure(http, now, options.provider);

  for (const item of chain) {
    if (isLokiError(item)) {
      return failure(item.isRetryable ? 'transient' : 'permanent', item.code, item.message);
    }
  }
  // streamText reports a timeout or abort as an `abort` part whose reason is a string such as
  // "TimeoutError: The operation was aborted due to timeout", so names are read from strings too.
  const names = chain.map((item) =>
    typeof item === 'string' ? /^(\w+):/.exec(item)?.[1] : stringProperty(item, 'name'),
  );
  const codes = chain.map((item) => stringProperty(item, 'code'));
  const messages = chain.map((item) => stringProperty(item, 'message')?.toLowerCase());
  const detail = describeError(chain);

  if (
    names.includes('TimeoutError') ||
    codes.some((code) => code !== undefined && TIMEOUT_ERROR_CODES.has(code))
  ) {
    return failure(
      'transient',
      'PROVIDER_TIMEOUT',
      `the model call timed out (${detail}); it will be retried.`,
    );
  }
  if (
    codes.some((code) => code !== undefined && NETWORK_ERROR_CODES.has(code)) ||
    messages.some((message) => message !== undefined && NETWORK_ERROR_MESSAGES.has(message)) ||
    chain.some((item) => property(item, 'isRetryable') === true && stringProperty(item, 'url') !== undefined)
  ) {
    return failure(
      'transient',
      'PROVIDER_NETWORK',
      `network error talking to the model (${detail}); it will be retried.`,
    );
  }
  if (names.includes('AbortError')) {
    return failure('permanent', 'PROVIDER_ABORTED', 'the model call was cancelled.');
  }
  if (chain.some((item) => LoadAPIKeyError.isInstance(item))) {
    return failure(
      'permanent',
      'PROVIDER_AUTH',
      `no API key for the model provider. ${apiKeyAdvice(options.provider)}`,
    );
  }
  if (chain.some((item) => NoSuchModelError.isInstance(item))) {
    return failure('permanent', 'PROVIDER_MODEL_UNKNOWN', `unknown model (${detail}). ${modelAdvice}`);
  }
  if (
    chain.some(
      (item) =>
        JSONParseError.isInstance(item) ||
        TypeValidationError.isInstance(item) ||
        InvalidResponseDataError.isInstance(item) ||
        EmptyResponseBodyError.isInstance(item),
    ) ||
    names.includes('AI_NoOutputGeneratedError')
  ) {
    return failure(
      'transient',
      'PROVIDER_STREAM_MALFORMED',
      `the model's response was cut short or malformed (${detail}); it will be retried.`,
    );
  }
  return failure(
    'permanent',
    'PROVIDER_UNEXPECTED_FAILURE',
    `unexpected error from the model call: ${detail}`,
  );
}

const modelAdvice = 'Check the model name in the configuration (and, for a custom server, its base URL).';

function classifyHttpFailure(
  http: HttpFailureDetails,
  now: number,
  provider: ProviderName | undefined,
): ModelFailure {
  const { statusCode, errorType, errorCode } = http;
  const said = describeHttp(http);
  const retryAfterMilliseconds = parseRetryAfterMilliseconds(http.headers, now);
  const kinds = [errorType, errorCode].filter((kind) => kind !== undefined);

  const isQuota =
    statusCode === 402 ||
    kinds.some((kind) => kind === 'insufficient_quota' || kind === 'billing_error') ||
    ([400, 403, 429].includes(statusCode) &&
      /credit balance|insufficient[_ ]quota|billing/i.test(http.providerMessage));
  if (isQuota) {
    return failure(
      'permanent',
      'PROVIDER_QUOTA',
      `the provider refused the call for quota or billing reasons (${said}). Add credit or raise the ` +
        "limit in the provider's console, then run again.",
      statusCode,
    );
  }
  if (
    statusCode === 401 ||
    statusCode === 403 ||
    kinds.some((kind) => /authentication|permission|invalid_api_key/.test(kind))
  ) {
    return failure(
      'permanent',
      'PROVIDER_AUTH',
      `the provider rejected the credentials (${said}). ${apiKeyAdvice(provider)}`,
      statusCode,
    );
  }
  if (statusCode === 429 || kinds.includes('rate_limit_error') || kinds.includes('rate_limit_exceeded')) {
    const wait = retryAfterMilliseconds === null ? '' : ` for ${formatWait(retryAfterMilliseconds)}`;
    return failure(
      'rate_limited',
      'PROVIDER_RATE_LIMITED',
      `rate limited (${said}); waiting${wait}.`,
      statusCode,
      retryAfterMilliseconds,
    );
  }
  if (statusCode === 529 || kinds.includes('overloaded_error')) {
    return failure(
      'transient',
      'PROVIDER_OVERLOADED',
      `the provider is overloaded (${said}); backing off.`,
      statusCode,
      retryAfterMilliseconds,
    );
  }
  if (
    statusCode === 404 ||
    kinds.some((kind) => kind === 'model_not_found' || kind === 'not_found_error') ||
    (statusCode === 400 &&
      /\bmodel\b/i.test(http.providerMessage) &&
      /not found|does not exist|invalid|unknown|not supported/i.test(http.providerMessage))
  ) {
    return failure(
      'permanent',
      'PROVIDER_MODEL_UNKNOWN',
      `the model was not found (${said}). ${modelAdvice}`,
      statusCode,
    );
  }
  if (statusCode === 408) {
    return failure(
      'transient',
      'PROVIDER_TIMEOUT',
      `the provider timed out (${said}); backing off.`,
      statusCode,
      retryAfterMilliseconds,
    );
  }
  if (statusCode >= 500 || statusCode === 409) {
    return failure(
      'transient',
      'PROVIDER_SERVER_ERROR',
      `provider server error (${said}); backing off.`,
      statusCode,
      retryAfterMilliseconds,
    );
  }
  return failure(
    'permanent',
    'PROVIDER_BAD_REQUEST',
    `the provider refused the request (${said}). This is a bug in the request Loki built or a ` +
      'setting the model does not support; retrying will not help.',
    statusCode,
  );
}

function failure(
  category: ModelFailureCategory,
  code: string,
  message: string,
  statusCode: number | null = null,
  retryAfterMilliseconds: number | null = null,
): ModelFailure {
  return { category, code, retryAfterMilliseconds, message, statusCode };
}

function apiKeyAdvice(provider: ProviderName | undefined): string {
  switch (provider) {
    case 'anthropic':
      return 'Check the API key in ANTHROPIC_API_KEY.';
    case 'openai':
      return 'Check the API key in OPENAI_API_KEY.';
    case 'openai-compatible':
      return 'Check the API key in LOKI_OPENAI_COMPATIBLE_API_KEY (or OPENAI_API_KEY) for your server.';
    case 'claude-code':
      return 'Check Claude Code is logged in (`claude /login`) or ANTHROPIC_API_KEY is valid.';
    case 'codex':
      return 'Check Codex is logged in (`codex login`) or OPENAI_API_KEY is valid.';
    case 'ollama':
    case 'scripted':
    case undefined:
      return 'Check the API key environment variable for the provider (ANTHROPIC_API_KEY, OPENAI_API_KEY).';
  }
}

function describeHttp(http: HttpFailureDetails): string {
  const kind = http.errorType ?? http.errorCode;
  const parts = [
    `HTTP ${http.statusCode}`,
    kind,
    http.providerMessage === '' ? undefined : http.providerMessage,
  ];
  return parts
    .filter((part) => part !== undefined)
    .join(' ')
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}

/**
 * The messages along the cause chain, first lines only: the outermost one alone is often useless
 * ("Failed to process successful response") while the innermost says what happened ("other side closed").
 */
function describeError(chain: readonly unknown[]): string {
  const messages: string[] = [];
  for (const item of chain) {
    const message = (stringProperty(item, 'message') ?? (typeof item === 'string' ? item : ''))
      .split('\n')[0]
      ?.trim();
    if (message !== undefined && message !== '' && !messages.includes(message)) messages.push(message);
  }
  return (messages.length === 0 ? String(chain[0]) : messages.join(': ')).slice(0, 300);
}

function formatWait(milliseconds: number): string {
  return milliseconds < 1000 ? `${milliseconds} ms` : `${Math.round(milliseconds / 100) / 10} s`;
}
