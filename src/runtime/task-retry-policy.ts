import { type Clock, type RandomSource, systemRandom } from '../clock/index.ts';
import { breakerSettingsFor, type CircuitBreakerConfig, type LokiConfig } from '../config/index.ts';
import { classifyModelFailure } from '../providers/index.ts';
import { type CallWithRetriesOptions, CircuitBreaker, sleep } from '../resilience/index.ts';
import type { Store } from '../store/index.ts';

export type TaskRetryPolicy = Omit<
  CallWithRetriesOptions,
  'emit' | 'runId' | 'taskId' | 'signal' | 'provider'
>;

/**
 * Loki's retry policy for one task's model calls: backoff from the configuration, failures
 * classified, and the circuit breakers of the provider and of the task's agent type (kept in the
 * store, so they hold across tasks and runs).
 */
export function taskRetryPolicy(options: {
  config: LokiConfig;
  breakerConfig: CircuitBreakerConfig;
  clock: Clock;
  store: Store;
  provider: string;
  agentType: string;
  random?: RandomSource;
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
  };
}
