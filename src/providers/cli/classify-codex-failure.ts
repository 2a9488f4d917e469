import type { Clock } from '../../clock/index.ts';
import { classifyModelFailure, type ModelFailure } from '../classify-model-failure.ts';
import { createModelFailure } from './cli-attempt-failure.ts';
import { quoteForMessage } from './describe-text.ts';
import type { LineProcessExit } from './run-line-process.ts';

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

/** Classifies a Codex process that ended without finishing or failing its turn. */
export function classifyCodexExit(exit: LineProcessExit, executable: string): ModelFailure {
  const stderr = exit.stderrTail.trim().split('\n').slice(-5).join('\n');
  if (exit.spawnError !== null) {
    const code = (exit.spawnError as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return createModelFailure(
        'permanent',
        'CODEX_NOT_FOUND',
        `Codex (${executable}) was not found. Install it with \`npm install -g @openai/codex\`, or configure the path to the \`codex\` executable.`,
      );
    }
    return createModelFailure(
      'permanent',
      'CODEX_NOT_STARTED',
      `Codex (${executable}) could not be started: ${exit.spawnError.message}`,
    );
  }
  if (exit.exitSignal !== null) {
    return createModelFailure(
      'transient',
      'CODEX_CRASHED',
      `Codex was killed by ${exit.exitSignal} (${quoteForMessage(stderr)}).`,
    );
  }
  return createModelFailure(
    'permanent',
    'CODEX_FAILED',
    `Codex exited with code ${exit.exitCode ?? 'unknown'} without finishing its turn (${quoteForMessage(stderr)}).`,
  );
}
