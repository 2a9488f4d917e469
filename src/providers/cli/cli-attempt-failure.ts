import { LokiError } from '../../errors/index.ts';
import type { ModelFailure } from '../failures/index.ts';

/**
 * One attempt of an agent CLI failed in a way Loki classified. Thrown inside the retry policy so
 * that transient and rate-limited failures are retried (the session resumed) and permanent ones stop.
 */
export class CliAttemptFailure extends LokiError {
  readonly failure: ModelFailure;

  constructor(failure: ModelFailure) {
    super(failure.message, {
      code: failure.code,
      category: 'provider',
      isRetryable: failure.category !== 'permanent',
      context: { statusCode: failure.statusCode },
    });
    this.name = 'CliAttemptFailure';
    this.failure = failure;
  }
}

/** A failure Loki recognised itself (no HTTP status to go by), in the shape the provider rules use. */
export function createModelFailure(
  category: ModelFailure['category'],
  code: string,
  message: string,
): ModelFailure {
  return { category, code, message, retryAfterMilliseconds: null, statusCode: null };
}
