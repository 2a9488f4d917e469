import { isLokiError, LokiError } from '../errors/index.ts';

/**
 * A git operation against the run's shared remote that failed for a reason that is not the task's:
 * the remote unreachable, a network error, a ref lock race on either side, a push the remote
 * refused. Retried where it happened; when retries run out, the task goes back to the queue with
 * `context.notBefore` set (see `queueWaitOf`), no failure counted.
 */
export const REMOTE_GIT_UNAVAILABLE = 'REMOTE_GIT_UNAVAILABLE';

/**
 * The error for a failed git `action` against `url`, with the last lines of what git said. The URL
 * is redacted wherever it appears (an https remote may carry a token in it).
 */
export function remoteUnavailable(url: string, action: string, gitOutput: string): LokiError {
  const said = gitSaid(gitOutput, url);
  const remote = redactRemoteUrl(url);
  return new LokiError(
    `git ${action} against the run's remote ${remote} failed: ${said}; check that this machine reaches the remote with its git credentials`,
    {
      code: REMOTE_GIT_UNAVAILABLE,
      category: 'user',
      isRetryable: true,
      context: { url: remote, action, gitMessage: said },
    },
  );
}

/** A ref or index lock of the clone held by another git process while it synced with `url`. */
export function lockRace(url: string, gitOutput: string): LokiError {
  const said = gitSaid(gitOutput, url);
  const remote = redactRemoteUrl(url);
  return new LokiError(
    `another git process held a lock in this clone while it synced with the run's remote ${remote}: ${said}`,
    {
      code: REMOTE_GIT_UNAVAILABLE,
      category: 'internal',
      isRetryable: true,
      context: { url: remote, action: 'lock', gitMessage: said },
    },
  );
}

/**
 * What git said went wrong, redacted: its last three lines, those marked as errors (`fatal:`,
 * `error:`, the remote's `remote:`, a refused ref's `!`) first; git's advice after a lock error
 * would otherwise hide the error itself.
 */
function gitSaid(gitOutput: string, url: string): string {
  const lines = gitOutput
    .split('\n')
    .map((line) => line.trim())
    // `--porcelain` frames its report with "To <url>" and "Done": not what went wrong.
    .filter((line) => line !== '' && line !== 'Done' && !line.startsWith('To '));
  const errors = lines.filter((line) => /^(fatal:|error:|remote:|!)/.test(line));
  return redactRemoteText((errors.length > 0 ? errors : lines).slice(-3).join(' '), url);
}

/** Whether `error` is a remote failure (see REMOTE_GIT_UNAVAILABLE) or a git ref/index lock race. */
export function isTransientGitFailure(error: unknown): boolean {
  if (!isLokiError(error)) return false;
  if (error.code === REMOTE_GIT_UNAVAILABLE) return true;
  // Another git process in the same clone held a lock for a moment (`cannot lock ref`, `index.lock`).
  const stderr = typeof error.context.stderr === 'string' ? error.context.stderr : error.message;
  return error.code === 'GIT_FAILED' && LOCK_RACE.test(stderr);
}

const LOCK_RACE = /cannot lock ref|unable to create '[^']*\.lock'|\.lock': File exists/i;

/**
 * `url` as messages, events and logs show it: the password (or, for http(s), a user name standing
 * alone, the way token remotes are written) replaced. scp-like (`git@host:path`) and local paths
 * carry no secret and stay as written.
 */
export function redactRemoteUrl(url: string): string {
  const trimmed = url.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return trimmed;
  try {
    const parsed = new URL(trimmed);
    if (parsed.password !== '') parsed.password = '***';
    else if (parsed.username !== '' && /^https?:$/i.test(parsed.protocol)) parsed.username = '***';
    else return trimmed;
    return parsed.toString();
  } catch {
    return '(an unparseable remote URL)';
  }
}

/** `text` (git's output) with `url` and any credentials of a URL in it redacted. */
function redactRemoteText(text: string, url: string): string {
  const withoutUrl = url.trim() === '' ? text : text.split(url.trim()).join(redactRemoteUrl(url));
  return withoutUrl.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi, '$1***@');
}
