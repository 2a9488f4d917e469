import type { Clock, RandomSource } from '../clock/index.ts';
import { LokiError } from '../errors/index.ts';
import type { FailureCategory, NewEvent } from '../events/index.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';

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
    try {
      const result = await operation(attempt);
      for (const breaker of options.breakers) await breaker.recordSuccess();
      return result;
    } catch (error) {
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
