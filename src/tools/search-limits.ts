import type { LokiError } from '../errors/index.ts';
import type { SearchOutcome } from './run-search-worker.ts';
import type { ToolContext } from './tool.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';

/** A search is stopped after this long, or the tool's command timeout when that is shorter. */
export const SEARCH_TIMEOUT_MILLISECONDS = 30_000;

export function searchTimeoutMilliseconds(context: ToolContext): number {
  return Math.min(SEARCH_TIMEOUT_MILLISECONDS, context.commandTimeoutMilliseconds);
}

/**
 * The model-readable error for a search the worker did not finish: `subject` names the pattern,
 * `advice` says what a simpler one looks like.
 */
export function searchStoppedError(
  outcome: Exclude<SearchOutcome, { kind: 'finished' }>,
  subject: string,
  advice: string,
): LokiError {
  const why =
    outcome.kind === 'too_slow'
      ? `is too slow: it did not finish within ${formatSeconds(outcome.timeoutMilliseconds)}`
      : `is too complex: it needed more than ${outcome.heapLimitMegabytes} MB of memory`;
  return toolUsageError(ToolErrorCode.searchTooSlow, `Stopped: ${subject} ${why}. ${advice}`, {
    stoppedBecause: outcome.kind,
  });
}

function formatSeconds(milliseconds: number): string {
  const seconds = milliseconds / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
