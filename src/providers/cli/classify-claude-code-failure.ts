import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Clock } from '../../clock/index.ts';
import { classifyModelFailure, type ModelFailure } from '../failures/index.ts';
import { createModelFailure } from './cli-attempt-failure.ts';
import { quoteForMessage } from './describe-text.ts';

/** A failed API call as Claude Code reports it (a synthetic assistant message, a retry notice). */
export interface ClaudeCodeApiError {
  /** Claude Code's own category: authentication_failed, rate_limit, overloaded, server_error… */
  error: string | null;
  status: number | null;
  type: string | null;
  message: string;
}

/** How a Claude Code process ended, for classifying a run that produced no result. */
export interface ClaudeCodeProcessExit {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  /** Set when the executable could not be started at all (ENOENT, EACCES). */
  spawnError: Error | null;
  stderrTail: string;
}

/**
 * The HTTP status each of Claude Code's own error categories stands for, when it reports a failed
 * API call without one (it says `authentication_failed` with no status when it has no credentials).
 */
const STATUS_BY_CLAUDE_CODE_ERROR: Readonly<Record<string, number>> = {
  authentication_failed: 401,
  cloud_credential_error: 401,
  oauth_org_not_allowed: 403,
  account_on_hold: 403,
  verification_required: 403,
  billing_error: 402,
  rate_limit: 429,
  overloaded: 529,
  invalid_request: 400,
  model_not_found: 404,
  server_error: 500,
};

const LOGIN_ADVICE =
  'Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) for Loki, or log Claude Code in with `claude /login`.';

/** Classifies a failed API call that Claude Code reported, with Loki's provider rules. */
export function classifyClaudeCodeApiError(apiError: ClaudeCodeApiError, clock?: Clock): ModelFailure {
  const statusCode =
    apiError.status ?? (apiError.error === null ? undefined : STATUS_BY_CLAUDE_CODE_ERROR[apiError.error]);
  if (apiError.status === null && statusCode === 401) {
    // No HTTP call was made: Claude Code found no credentials at all.
    return createModelFailure(
      'permanent',
      'PROVIDER_AUTH',
      `Claude Code is not authenticated (${quoteForMessage(apiError.message)}). ${LOGIN_ADVICE}`,
    );
  }
  if (statusCode === undefined) {
    return createModelFailure(
      'permanent',
      'CLAUDE_CODE_API_ERROR',
      `Claude Code reported an API error it did not classify (${quoteForMessage(apiError.message)}).`,
    );
  }
  // Shaped like an HTTP error so the provider rules (auth, quota, overload, retry) apply unchanged.
  const httpError = {
    statusCode,
    responseBody: JSON.stringify({
      type: 'error',
      error: { type: apiError.type ?? apiError.error ?? undefined, message: apiError.message },
    }),
  };
  return classifyModelFailure(httpError, {
    provider: 'claude-code',
    ...(clock === undefined ? {} : { clock }),
  });
}

/** Classifies a `result` message that reports a failure other than an API error. */
export function classifyClaudeCodeResultFailure(result: SDKResultMessage): ModelFailure {
  const detail = quoteForMessage(
    [
      result.subtype === 'success' ? result.result : '',
      ...(result.subtype === 'success' ? [] : result.errors),
    ]
      .filter((part) => part !== '')
      .join('; '),
  );
  if (result.subtype === 'error_max_budget_usd') {
    return createModelFailure(
      'permanent',
      'CLAUDE_CODE_BUDGET_EXCEEDED',
      `Claude Code stopped at its spending limit (${detail}).`,
    );
  }
  return createModelFailure(
    'permanent',
    'CLAUDE_CODE_EXECUTION_FAILED',
    `Claude Code failed (${result.subtype}: ${detail}). Its session log under ~/.claude/projects has the details.`,
  );
}

/** Classifies a Claude Code process that ended without a `result` message. */
export function classifyClaudeCodeExit(exit: ClaudeCodeProcessExit, executable: string): ModelFailure {
  const stderr = lastLines(exit.stderrTail);
  if (exit.spawnError !== null) {
    const code = (exit.spawnError as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return createModelFailure(
        'permanent',
        'CLAUDE_CODE_NOT_FOUND',
        `Claude Code (${executable}) was not found. Install it with \`npm install -g @anthropic-ai/claude-code\`, ` +
          'or configure the path to the `claude` executable.',
      );
    }
    return createModelFailure(
      'permanent',
      'CLAUDE_CODE_NOT_STARTED',
      `Claude Code (${executable}) could not be started: ${exit.spawnError.message}`,
    );
  }
  if (/cannot be used with root/i.test(stderr)) {
    return createModelFailure(
      'permanent',
      'CLAUDE_CODE_ROOT_REFUSED',
      `Claude Code refused to bypass permissions as root (${quoteForMessage(stderr)}). Run Loki as a normal user, ` +
        'choose another permission mode, or mark the machine as a sandbox with IS_SANDBOX=1.',
    );
  }
  if (exit.exitSignal !== null) {
    return createModelFailure(
      'transient',
      'CLAUDE_CODE_CRASHED',
      `Claude Code was killed by ${exit.exitSignal} (${quoteForMessage(stderr)}).`,
    );
  }
  return createModelFailure(
    'permanent',
    'CLAUDE_CODE_FAILED',
    `Claude Code exited with code ${exit.exitCode ?? 'unknown'} without a result (${quoteForMessage(stderr)}).`,
  );
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join('\n');
}
