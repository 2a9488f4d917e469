import { describe, expect, it } from 'vitest';
import { parseRetryAfterMilliseconds } from './parse-retry-after.ts';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('parseRetryAfterMilliseconds', () => {
  it('reads retry-after in seconds, whole or fractional', () => {
    expect(parseRetryAfterMilliseconds({ 'retry-after': '7' }, now)).toBe(7000);
    expect(parseRetryAfterMilliseconds({ 'retry-after': '0.5' }, now)).toBe(500);
  });

  it('reads retry-after as an HTTP date, and never returns a negative wait', () => {
    const inNinetySeconds = new Date(now + 90_000).toUTCString();
    expect(parseRetryAfterMilliseconds({ 'retry-after': inNinetySeconds }, now)).toBe(90_000);
    expect(parseRetryAfterMilliseconds({ 'retry-after': new Date(now - 5000).toUTCString() }, now)).toBe(0);
  });

  it('prefers retry-after-ms, the most precise', () => {
    expect(parseRetryAfterMilliseconds({ 'retry-after-ms': '1234.5', 'retry-after': '9' }, now)).toBe(1235);
  });

  it('waits until every exhausted Anthropic limit has reset', () => {
    const headers = {
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': new Date(now + 10_000).toISOString(),
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': new Date(now + 30_000).toISOString(),
      'anthropic-ratelimit-output-tokens-remaining': '5000',
      'anthropic-ratelimit-output-tokens-reset': new Date(now + 60_000).toISOString(),
    };
    expect(parseRetryAfterMilliseconds(headers, now)).toBe(30_000);
  });

  it('without an exhausted limit, waits for the soonest reset', () => {
    const headers = {
      'anthropic-ratelimit-requests-reset': new Date(now + 10_000).toISOString(),
      'anthropic-ratelimit-tokens-reset': new Date(now + 30_000).toISOString(),
    };
    expect(parseRetryAfterMilliseconds(headers, now)).toBe(10_000);
  });

  it("reads OpenAI's duration reset headers", () => {
    expect(
      parseRetryAfterMilliseconds(
        { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' },
        now,
      ),
    ).toBe(360_000);
    expect(parseRetryAfterMilliseconds({ 'x-ratelimit-reset-requests': '1h2m3.5s' }, now)).toBe(3_723_500);
    expect(parseRetryAfterMilliseconds({ 'x-ratelimit-reset-requests': '20ms' }, now)).toBe(20);
  });

  it('returns null when the provider said nothing usable', () => {
    expect(parseRetryAfterMilliseconds({}, now)).toBeNull();
    expect(
      parseRetryAfterMilliseconds({ 'retry-after': 'soon', 'x-ratelimit-reset-requests': 'later' }, now),
    ).toBeNull();
  });
});
