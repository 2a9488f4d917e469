import type { Clock } from '../../clock/index.ts';
import { classifyModelFailure, type ModelFailure } from '../failures/index.ts';
import { createModelFailure } from './cli-attempt-failure.ts';
import { quoteForMessage } from './describe-text.ts';

/**
 * Codex reports failures as text ("unexpected status 401 Unauthorized: …", "exceeded retry limit,
 * last status: 429 Too Many Requests", "stream disconnected before completion: …"). The HTTP status
 * in the text, when there is one, decides the category through the shared provider rules.
 */
const STATUS_IN_MESSAGE = /\bstatus:?\s+(\d{3})\b/i;

export function classifyCodexFailure(message: string, clock?: Clock): ModelFailure {
  const status = STATUS_IN_MESSAGE.exec(message)?.[1];
  if (status !== undefined) {
    const httpError = { statusCode: Number(status), responseBody: JSON.stringify({ error: { message } }) };
    return classifyModelFailure(httpError, { provider: 'codex', ...(clock === undefined ? {} : { clock }) });
  }
  if (/usage limit|rate limit/i.test(message)) {
    return createModelFailure(
      'rate_limited',
      'PROVIDER_RATE_LIMITED',
      `Codex hit a rate or usage limit (${quoteForMessage(message)}).`,
    );
  }
  if (/quota|billing|credit/i.test(message)) {
    return createModelFailure(
      'permanent',
      'PROVIDER_QUOTA',
      `Codex was refused for quota or billing reasons (${quoteForMessage(message)}). Add credit or raise the limit, then run again.`,
    );
  }
  if (/not logged in|login|api key/i.test(message)) {
    return createModelFailure(
      'permanent',
      'PROVIDER_AUTH',
      `Codex is not authenticated (${quoteForMessage(message)}). Set OPENAI_API_KEY (or CODEX_API_KEY), or run \`codex login\`.`,
    );
  }
  if (/stream disconnected|stream closed|connection|timed out|timeout/i.test(message)) {
    return createModelFailure(
      'transient',
      'PROVIDER_NETWORK',
      `Codex lost its connection to the model (${quoteForMessage(message)}).`,
    );
  }
  return createModelFailure('permanent', 'CODEX_FAILED', `Codex failed (${quoteForMessage(message)}).`);
}

/** "Codex Exec exited with code 1: <stderr>" / "… with signal SIGKILL: …", as the Codex SDK throws it. */
const SDK_EXIT = /^Codex Exec exited with (code (\d+)|signal (\w+)): ?([\s\S]*)$/;

/**
 * Classifies what ended a Codex turn without finishing or failing it: the SDK's errors when the
 * process could not start, died, or printed a line that is not JSON.
 */
export function classifyCodexError(error: unknown, executable: string): ModelFailure {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') {
    return createModelFailure(
      'permanent',
      'CODEX_NOT_FOUND',
      `Codex (${executable}) was not found. Install it with \`npm install -g @openai/codex\`, or set LOKI_CODEX_PATH to the \`codex\` executable.`,
    );
  }
  if (code !== undefined) {
    return createModelFailure(
      'permanent',
      'CODEX_NOT_STARTED',
      `Codex (${executable}) could not be started: ${message}`,
    );
  }
  const exit = SDK_EXIT.exec(message);
  const stderr = (exit?.[4] ?? '').trim().split('\n').slice(-5).join('\n');
  if (exit?.[3] !== undefined) {
    return createModelFailure(
      'transient',
      'CODEX_CRASHED',
      `Codex was killed by ${exit[3]} (${quoteForMessage(stderr)}).`,
    );
  }
  if (exit !== null) {
    return createModelFailure(
      'permanent',
      'CODEX_FAILED',
      `Codex exited with code ${exit[2]} without finishing its turn (${quoteForMessage(stderr)}).`,
    );
  }
  return createModelFailure(
    'transient',
    'CODEX_BAD_OUTPUT',
    `Codex's event stream broke off (${quoteForMessage(message)}).`,
  );
}
