import type { Clock, RandomSource } from '../clock/index.ts';
import { LokiError } from '../errors/index.ts';
import type { FailureCategory, NewEvent } from '../events/index.ts';
import type { CallLimiter } from './call-limiter.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { rateLimitedWaitError } from './queue-wait.ts';

export interface FailureClassification {
  category: FailureCategory;
  code: string;
  /** What the server asked for (retry-after and friends), or null. */
  retryAfterMilliseconds: number | null;
  message: string;
}

export interface RetrySettings {
  /** Retries after the first attempt (LOKI_MAX_RETRIES). */
  maxRetries: number;
  /** First backoff wait (LOKI_BASE_WAIT, in ms here). */
  baseWaitMilliseconds: number;
  /** Cap on one wait, including a server's retry-after (LOKI_MAX_WAIT, in ms here). */
  maxWaitMilliseconds: number;
}

export interface CallWithRetriesOptions {
  settings: RetrySettings;
  classify: (error: unknown) => FailureClassification;
  /** Breakers to consult before and update after every attempt (e.g. the provider's and the agent type's). */
  breakers: readonly CircuitBreaker[];
  provider: string;
  emit: (event: NewEvent) => void;
  runId: string | null;
  taskId: string | null;
  random: RandomSource;
  clock: Clock;
  /** Waits, abortably. Injected so tests run without real waiting. */
  sleep: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** The provider's limiter, shared by every call of the process: every attempt holds one of its slots. */
  limiter?: CallLimiter;
  /**
   * A rate-limited call told to wait longer than this gives its worker back instead of waiting: a
   * PROVIDER_RATE_LIMITED error carries the time to try again (`context.notBefore`, see
   * `queueWaitOf`) for the caller to put its task back in the queue. Undefined: every wait is waited
   * out here (a planning call has no task to put back).
   */
  requeueAboveMilliseconds?: number;
}

/** The delay before retry number `retry` (1-based): the server's retry-after, else exponential with jitter. */
export function retryDelayMilliseconds(
  retry: number,
  classification: FailureClassification,
  settings: RetrySettings,
  random: RandomSource,
): number {
  if (classification.retryAfterMilliseconds !== null) {
    return Math.min(Math.max(0, classification.retryAfterMilliseconds), settings.maxWaitMilliseconds);
  }
  const exponential = Math.min(
    settings.baseWaitMilliseconds * 2 ** (retry - 1),
    settings.maxWaitMilliseconds,
  );
  return Math.round(exponential + exponential * 0.1 * random());
}

/**
 * Runs one model call under Loki's retry policy (the SDKs' own retries are switched off):
 * transient and rate-limited failures are retried with backoff, honouring retry-after; permanent
 * ones (auth, quota, unknown model) stop at once with a message saying what to fix. Breakers are
 * told about every outcome and refuse calls while open.
 */
export async function callWithRetries<T>(
  operation: (attempt: number) => Promise<T>,
  options: CallWithRetriesOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    for (const breaker of options.breakers) await breaker.beforeCall();
    // The provider already asked every caller to wait (another agent's 429): long waits are not waited here.
    const pause = options.limiter?.pauseLeft() ?? 0;
    if (options.requeueAboveMilliseconds !== undefined && pause > options.requeueAboveMilliseconds) {
      throw rateLimitedWaitError(
        options.provider,
        pause,
        options.clock.now(),
        'an earlier call was told to wait',
      );
    }
    const release = await options.limiter?.acquire(options.signal);
    try {
      const result = await operation(attempt);
      release?.();
      for (const breaker of options.breakers) await breaker.recordSuccess();
      return result;
    } catch (error) {
      release?.();
      if (options.signal?.aborted) throw options.signal.reason;
      const classification = options.classify(error);
      options.emit({
        type: 'agent.error',
        runId: options.runId,
        taskId: options.taskId,
        data: {
          code: classification.code,
          category: classification.category,
          message: classification.message,
        },
      });
      if (classification.category === 'permanent') {
        throw new LokiError(classification.message, {
          code: classification.code,
          category: 'provider',
          isRetryable: false,
          cause: error,
        });
      }
      for (const breaker of options.breakers) await breaker.recordFailure();
      if (attempt > options.settings.maxRetries) {
        throw new LokiError(
          `${options.provider}: gave up after ${attempt} attempts (${classification.message}); raise LOKI_MAX_RETRIES or try later`,
          { code: 'PROVIDER_RETRIES_EXHAUSTED', category: 'provider', isRetryable: true, cause: error },
        );
      }
      const delay = retryDelayMilliseconds(attempt, classification, options.settings, options.random);
      if (classification.category === 'rate_limited') {
        options.emit({
          type: 'agent.rate_limited',
          runId: options.runId,
          taskId: options.taskId,
          data: { provider: options.provider, retryAfterMilliseconds: classification.retryAfterMilliseconds },
        });
        // What the provider said holds for every call to it, not only this one.
        if (classification.retryAfterMilliseconds !== null) {
          options.limiter?.pauseUntil(options.clock.now() + delay);
        }
        if (options.requeueAboveMilliseconds !== undefined && delay > options.requeueAboveMilliseconds) {
          throw rateLimitedWaitError(options.provider, delay, options.clock.now(), classification.message);
        }
      }
      options.emit({
        type: 'agent.retry',
        runId: options.runId,
        taskId: options.taskId,
        data: {
          attempt,
          delayMilliseconds: delay,
          category: classification.category,
          reason: classification.message,
        },
      });
      await options.sleep(delay, options.signal);
    }
  }
}

/** A real, abortable sleep. */
export function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
