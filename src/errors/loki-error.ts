/**
 * Every error Loki raises on purpose is a LokiError: a stable `code` that scripts can match on,
 * a category that says whose problem it is, the process exit code it maps to, and a message that
 * tells the user what to do next.
 */
export type ErrorCategory = 'user' | 'provider' | 'internal';

/** Process exit codes (DESIGN.md §5). */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  notVerified: 3,
  budgetStop: 4,
  blocked: 5,
  stalled: 6,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface LokiErrorOptions {
  code: string;
  category: ErrorCategory;
  exitCode?: ExitCode;
  isRetryable?: boolean;
  context?: Record<string, unknown>;
  cause?: unknown;
}

export class LokiError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly exitCode: ExitCode;
  readonly isRetryable: boolean;
  readonly context: Record<string, unknown>;

  constructor(message: string, options: LokiErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LokiError';
    this.code = options.code;
    this.category = options.category;
    this.exitCode = options.exitCode ?? (options.category === 'user' ? ExitCode.usage : ExitCode.error);
    this.isRetryable = options.isRetryable ?? false;
    this.context = options.context ?? {};
  }
}

/** A problem with what the user asked for or supplied: exit 2, message says how to fix it. */
export function usageError(code: string, message: string, context: Record<string, unknown> = {}): LokiError {
  return new LokiError(message, { code, category: 'user', exitCode: ExitCode.usage, context });
}

export function isLokiError(value: unknown): value is LokiError {
  return value instanceof LokiError;
}
