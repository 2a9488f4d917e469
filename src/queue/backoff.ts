import type { RandomSource } from '../clock/index.ts';

export interface BackoffSettings {
  /** Wait after the first failure, in seconds (LOKI_BASE_WAIT). */
  baseSeconds: number;
  /** Cap on the exponential part, in seconds (LOKI_MAX_WAIT). */
  maxSeconds: number;
  /** Up to this fraction of the wait is added at random so that failed tasks don't retry in lockstep. */
  jitterRatio: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseSeconds: 60, maxSeconds: 3600, jitterRatio: 0.1 };

/** `min(base · 2^(failureCount − 1), max)` plus up to `jitterRatio` of that, for failureCount ≥ 1. */
export function computeBackoffSeconds(
  failureCount: number,
  settings: BackoffSettings,
  random: RandomSource,
): number {
  const exponent = Math.max(0, failureCount - 1);
  // 2^exponent overflows to Infinity for huge counts; Math.min then picks the cap, which is right.
  const capped = Math.min(settings.baseSeconds * 2 ** exponent, settings.maxSeconds);
  return capped + capped * settings.jitterRatio * random();
}
