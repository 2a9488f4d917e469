import { setTimeout as delay } from 'node:timers/promises';
import type { RandomSource } from '../clock/index.ts';
import type { Alert } from './alert.ts';
import type { AlertChannel } from './alert-channel.ts';

export interface DeliveryPolicy {
  maxAttempts: number;
  timeoutMilliseconds: number;
  /** The first retry waits about this long; each next one twice as long, up to `maxDelayMilliseconds`. */
  baseDelayMilliseconds: number;
  maxDelayMilliseconds: number;
  random: RandomSource;
  now: () => number;
  fetch: typeof fetch;
}

export type DeliveryResult =
  | { isDelivered: true; attempts: number; status: number }
  | { isDelivered: false; attempts: number; reason: string };

interface AttemptFailure {
  isRetryable: boolean;
  reason: string;
  retryAfterMilliseconds: number | null;
}

/**
 * Delivers one alert to one channel: retries network errors, timeouts, 429 and 5xx with
 * exponential backoff and jitter; a 4xx other than 429 is the receiver refusing the alert, which
 * no retry changes. Never throws: aborting `signal` ends it with `isDelivered: false`.
 */
export async function deliverAlert(
  channel: AlertChannel,
  alert: Alert,
  policy: DeliveryPolicy,
  signal: AbortSignal,
): Promise<DeliveryResult> {
  let failure: AttemptFailure = { isRetryable: false, reason: 'not attempted', retryAfterMilliseconds: null };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt += 1) {
    if (signal.aborted)
      return { isDelivered: false, attempts: attempt - 1, reason: `${failure.reason}; delivery stopped` };
    const outcome = await attemptOnce(channel, alert, policy, signal);
    if (typeof outcome === 'number') return { isDelivered: true, attempts: attempt, status: outcome };
    failure = outcome;
    if (!failure.isRetryable || attempt === policy.maxAttempts)
      return { isDelivered: false, attempts: attempt, reason: failure.reason };
    const backoff = Math.min(
      policy.maxDelayMilliseconds,
      policy.baseDelayMilliseconds * 2 ** (attempt - 1) * (0.5 + policy.random()),
    );
    const wait = Math.min(
      policy.maxDelayMilliseconds,
      Math.max(backoff, failure.retryAfterMilliseconds ?? 0),
    );
    try {
      // A ref'd timer on purpose: `loki alert test` has nothing else keeping the process alive
      // while it waits; a run's dispatcher aborts these waits when it closes.
      await delay(wait, undefined, { signal });
    } catch {
      // Aborted while waiting to retry: the caller stopped delivery; the loop reports it.
    }
  }
  return { isDelivered: false, attempts: policy.maxAttempts, reason: failure.reason };
}

/** The HTTP status of a delivered alert, or why this attempt failed. */
async function attemptOnce(
  channel: AlertChannel,
  alert: Alert,
  policy: DeliveryPolicy,
  signal: AbortSignal,
): Promise<number | AttemptFailure> {
  const request = channel.request(alert, policy.now());
  try {
    const response = await policy.fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(policy.timeoutMilliseconds)]),
    });
    // The body is read so the connection can be reused; its text is never logged (it may echo a key).
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return response.status;
    const isRetryable = response.status === 429 || response.status >= 500;
    return { isRetryable, reason: `HTTP ${response.status}`, retryAfterMilliseconds: retryAfterOf(response) };
  } catch (error) {
    return { isRetryable: true, reason: describeNetworkError(error), retryAfterMilliseconds: null };
  }
}

function retryAfterOf(response: Response): number | null {
  const header = response.headers.get('retry-after');
  if (header === null || !/^\d+$/.test(header.trim())) return null;
  return Number(header.trim()) * 1000;
}

/** "fetch failed" says nothing: the cause's code (ECONNREFUSED, timeout) is what a person needs. */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timed out';
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return `network error ${cause.code}`;
  if (typeof cause?.message === 'string') return `network error: ${cause.message}`;
  return `network error: ${error instanceof Error ? error.message : String(error)}`;
}
