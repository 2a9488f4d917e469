export { type CallLimits, CallLimiter, NO_CALL_LIMITS, sharedCallLimiter } from './call-limiter.ts';
export {
  type CallWithRetriesOptions,
  callWithRetries,
  type FailureClassification,
  type RetrySettings,
  retryDelayMilliseconds,
  sleep,
} from './call-with-retries.ts';
export {
  type BreakerPersistence,
  type BreakerSettings,
  breakerOpenError,
  CircuitBreaker,
} from './circuit-breaker.ts';
export { type QueueWait, queueWaitOf, rateLimitedWaitError } from './queue-wait.ts';
