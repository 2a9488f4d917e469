import { systemClock, systemRandom } from '../../clock/index.ts';
import { isLokiError } from '../../errors/index.ts';
import type { AgentStopReason, NewEvent } from '../../events/index.ts';
import { type CallWithRetriesOptions, callWithRetries, queueWaitOf, sleep } from '../../resilience/index.ts';
import { classifyModelFailure, type ModelFailure } from '../failures/index.ts';
import type { ProviderName } from '../provider-name.ts';
import { CliAttemptFailure, createModelFailure } from './cli-attempt-failure.ts';

/** Loki's retry policy for a CLI runtime; without it a run gets one attempt. */
export type CliRetryOptions = Partial<
  Pick<CallWithRetriesOptions, 'settings' | 'breakers' | 'random' | 'clock' | 'sleep'>
>;

/** How one attempt ended when it did not fail. */
export interface CliAttemptOutcome {
  reason: 'task_complete' | 'step_limit' | 'no_progress';
  summary: string | null;
}

export interface RunCliAttemptsOptions {
  provider: Extract<ProviderName, 'claude-code' | 'codex'>;
  /** For messages: "Claude Code", "Codex". */
  displayName: string;
  emit: (event: NewEvent) => void;
  runId: string | null;
  taskId: string | null;
  retry?: CliRetryOptions;
  signal?: AbortSignal;
  timeoutMilliseconds: number;
  /**
   * Runs the CLI once. Throws a CliAttemptFailure for a classified failure; when `signal` stops
   * the process, throws `signal.reason`.
   */
  runAttempt: (attempt: number, signal: AbortSignal) => Promise<CliAttemptOutcome>;
}

export interface CliAttemptsEnding {
  reason: AgentStopReason;
  summary: string | null;
  failure: ModelFailure | null;
}

const SINGLE_ATTEMPT = { maxRetries: 0, baseWaitMilliseconds: 1_000, maxWaitMilliseconds: 60_000 };

/**
 * Runs a CLI under Loki's retry policy and its time limit, and says how the run ended. Failures
 * are reported as `agent.error` events exactly once each (the retry policy reports the classified
 * ones; this function the rest); aborts and time-outs stop the current process and every wait.
 * An open circuit breaker is thrown (BREAKER_OPEN), not reported: the task waits for it in the queue.
 */
export async function runCliAttempts(options: RunCliAttemptsOptions): Promise<CliAttemptsEnding> {
  const timeout = AbortSignal.timeout(options.timeoutMilliseconds);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const lastClassified: { error: unknown; failure: ModelFailure | null } = {
    error: undefined,
    failure: null,
  };
  const classify = (error: unknown): ModelFailure => {
    const failure =
      error instanceof CliAttemptFailure
        ? error.failure
        : classifyModelFailure(error, { provider: options.provider });
    lastClassified.error = error;
    lastClassified.failure = failure;
    return failure;
  };
  const report = (failure: ModelFailure): void => {
    options.emit({
      type: 'agent.error',
      runId: options.runId,
      taskId: options.taskId,
      data: { code: failure.code, category: failure.category, message: failure.message },
    });
  };

  try {
    const outcome = await callWithRetries((attempt) => options.runAttempt(attempt, signal), {
      settings: options.retry?.settings ?? SINGLE_ATTEMPT,
      breakers: options.retry?.breakers ?? [],
      random: options.retry?.random ?? systemRandom,
      clock: options.retry?.clock ?? systemClock,
      sleep: options.retry?.sleep ?? sleep,
      classify,
      provider: options.provider,
      emit: options.emit,
      runId: options.runId,
      taskId: options.taskId,
      signal,
    });
    return { ...outcome, failure: null };
  } catch (error) {
    if (options.signal?.aborted === true) return { reason: 'aborted', summary: null, failure: null };
    if (timeout.aborted) {
      const failure = createModelFailure(
        'transient',
        `${options.provider === 'codex' ? 'CODEX' : 'CLAUDE_CODE'}_TIMEOUT`,
        `${options.displayName} did not finish within ${Math.round(options.timeoutMilliseconds / 1000)} s and was stopped.`,
      );
      report(failure);
      return { reason: 'error', summary: null, failure };
    }
    if (lastClassified.failure !== null && isLokiError(error) && error.cause === lastClassified.error) {
      // Already reported by the retry policy; its message says how many attempts were made.
      return {
        reason: 'error',
        summary: null,
        failure: { ...lastClassified.failure, message: error.message },
      };
    }
    // An open circuit breaker: the task waits in the queue for it (thrown on, no failure to report).
    if (queueWaitOf(error) !== null) throw error;
    // Refused before any attempt for another reason, or a bug: reported here, once.
    const failure = classify(error);
    report(failure);
    return { reason: 'error', summary: null, failure };
  }
}
