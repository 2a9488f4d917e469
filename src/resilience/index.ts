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
