import { type Clock, type RandomSource, systemRandom } from '../clock/index.ts';
import { breakerSettingsFor, type CircuitBreakerConfig, type LokiConfig } from '../config/index.ts';
import { classifyModelFailure } from '../providers/index.ts';
import {
  type CallLimits,
  type CallWithRetriesOptions,
  CircuitBreaker,
  sharedCallLimiter,
  sleep,
} from '../resilience/index.ts';
import type { Store } from '../store/index.ts';

export type TaskRetryPolicy = Omit<
  CallWithRetriesOptions,
  'emit' | 'runId' | 'taskId' | 'signal' | 'provider'
>;

/**
 * Loki's retry policy for one task's model calls: backoff from the configuration, failures
 * classified, the circuit breakers of the provider and of the task's agent type (kept in the
 * store, so they hold across tasks and runs), and the provider's limits (`providerLimits`), shared
 * by every agent of the process.
 */
export function taskRetryPolicy(options: {
  config: LokiConfig;
  breakerConfig: CircuitBreakerConfig;
  clock: Clock;
  store: Store;
  provider: string;
  agentType: string;
  random?: RandomSource;
  /**
   * True when the caller can put its task back in the queue: a wait longer than
   * `rateLimitRequeueSeconds` then ends the call with PROVIDER_RATE_LIMITED instead of holding the
   * worker. False (planning, a one-off `loki task run`): every wait is waited out.
   */
  canRequeue?: boolean;
}): TaskRetryPolicy {
  const breakers = [`provider:${options.provider}`, `agent-type:${options.agentType}`].map(
    (name) =>
      new CircuitBreaker(name, breakerSettingsFor(options.breakerConfig, name), options.clock, options.store),
  );
  return {
    settings: {
      maxRetries: options.config.maxRetries,
      baseWaitMilliseconds: options.config.baseWait * 1000,
      maxWaitMilliseconds: options.config.maxWait * 1000,
    },
    classify: (error) => classifyModelFailure(error, { clock: options.clock }),
    breakers,
    random: options.random ?? systemRandom,
    clock: options.clock,
    sleep,
    limiter: sharedCallLimiter(options.provider, providerCallLimits(options.config, options.provider), {
      clock: options.clock,
      sleep,
    }),
    ...(options.canRequeue === true
      ? { requeueAboveMilliseconds: options.config.rateLimitRequeueSeconds * 1000 }
      : {}),
  };
}

/** The configured limits of one provider (`providerLimits.<provider>`); no entry: no limit. */
export function providerCallLimits(config: LokiConfig, provider: string): CallLimits {
  const limits = config.providerLimits[provider];
  return {
    maxConcurrentRequests: limits?.maxConcurrentRequests ?? null,
    requestsPerMinute: limits?.requestsPerMinute ?? null,
  };
}
