/** Response headers as the AI SDK reports them (names lower-cased by fetch). */
export type ResponseHeaders = Readonly<Record<string, string | undefined>>;

/** The per-limit reset headers: Anthropic sends RFC 3339 times, OpenAI sends durations ("6m0s"). */
const ANTHROPIC_LIMITS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;
const OPENAI_LIMITS = ['requests', 'tokens'] as const;

/**
 * How long the provider asked us to wait, in milliseconds, or null if it did not say.
 * `retry-after-ms` is the most precise, then `retry-after` (seconds or an HTTP date), then the
 * per-limit reset times. With reset headers, the wait lasts until every exhausted limit has reset
 * (waiting for only one would just hit the other); if none is reported exhausted, the soonest.
 */
export function parseRetryAfterMilliseconds(
  headers: ResponseHeaders,
  nowMilliseconds: number,
): number | null {
  const header = (name: string) => {
    const value = headers[name] ?? headers[name.toLowerCase()];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const retryAfterMs = header('retry-after-ms');
  if (retryAfterMs !== undefined && isNonNegativeNumber(retryAfterMs)) return Math.ceil(Number(retryAfterMs));

  const retryAfter = header('retry-after');
  if (retryAfter !== undefined) {
    if (isNonNegativeNumber(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMilliseconds);
  }

  const resets: Array<{ waitMilliseconds: number; isExhausted: boolean }> = [];
  for (const limit of ANTHROPIC_LIMITS) {
    const resetAt = Date.parse(header(`anthropic-ratelimit-${limit}-reset`) ?? '');
    if (Number.isNaN(resetAt)) continue;
    resets.push({
      waitMilliseconds: Math.max(0, resetAt - nowMilliseconds),
      isExhausted: header(`anthropic-ratelimit-${limit}-remaining`) === '0',
    });
  }
  for (const limit of OPENAI_LIMITS) {
    const wait = parseDurationMilliseconds(header(`x-ratelimit-reset-${limit}`));
    if (wait === undefined) continue;
    resets.push({ waitMilliseconds: wait, isExhausted: header(`x-ratelimit-remaining-${limit}`) === '0' });
  }
  if (resets.length === 0) return null;
  const exhausted = resets.filter((reset) => reset.isExhausted).map((reset) => reset.waitMilliseconds);
  if (exhausted.length > 0) return Math.ceil(Math.max(...exhausted));
  return Math.ceil(Math.min(...resets.map((reset) => reset.waitMilliseconds)));
}

function isNonNegativeNumber(text: string): boolean {
  return /^\d+(?:\.\d+)?$/.test(text);
}

/** Go-style durations as OpenAI writes them: "1s", "20ms", "6m0s", "1h2m3.5s". */
const DURATION =
  /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

function parseDurationMilliseconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = DURATION.exec(text);
  if (match === null || match[0] === '') return undefined;
  const [, hours, minutes, seconds, milliseconds] = match;
  return (
    Number(hours ?? 0) * 3_600_000 +
    Number(minutes ?? 0) * 60_000 +
    Number(seconds ?? 0) * 1000 +
    Number(milliseconds ?? 0)
  );
}
