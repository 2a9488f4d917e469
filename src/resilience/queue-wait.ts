import { isLokiError, LokiError } from '../errors/index.ts';

/**
 * A call that cannot be made before `notBefore` (epoch ms), for a reason that is not the task's
 * fault: its task waits in the queue until then, holding no worker, and no attempt is counted.
 */
export interface QueueWait {
  notBefore: number;
  reason: string;
}

/**
 * The error codes that carry a QueueWait in their context (`notBefore`). REMOTE_GIT_UNAVAILABLE:
 * the shared git remote of a distributed run failed past its retries (see distributed/RemoteRetry).
 */
const QUEUE_WAIT_CODES: ReadonlySet<string> = new Set([
  'BREAKER_OPEN',
  'PROVIDER_RATE_LIMITED',
  'REMOTE_GIT_UNAVAILABLE',
]);

/** The provider asked for a wait longer than a worker should be held (see `rateLimitRequeueSeconds`). */
export function rateLimitedWaitError(
  provider: string,
  waitMilliseconds: number,
  now: number,
  said: string,
): LokiError {
  return new LokiError(
    `${provider} rate limit: the task waits in the queue for ${Math.ceil(waitMilliseconds / 1000)} s instead of holding a worker (${said})`,
    {
      code: 'PROVIDER_RATE_LIMITED',
      category: 'provider',
      isRetryable: true,
      context: { provider, retryAfterMilliseconds: waitMilliseconds, notBefore: now + waitMilliseconds },
    },
  );
}

/** The wait an error asks for (an open breaker, a long rate limit), or null for any other error. */
export function queueWaitOf(error: unknown): QueueWait | null {
  if (!isLokiError(error) || !QUEUE_WAIT_CODES.has(error.code)) return null;
  const notBefore = error.context.notBefore;
  return typeof notBefore === 'number' ? { notBefore, reason: error.message } : null;
}
