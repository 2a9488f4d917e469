import { randomBytes } from 'node:crypto';

/** Time is injected so that leases, backoff and projections are deterministic in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can move by hand. */
export class ManualClock implements Clock {
  #now: number;
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  advance(milliseconds: number): void {
    this.#now += milliseconds;
  }
  set(milliseconds: number): void {
    this.#now = milliseconds;
  }
}

/** Randomness is injected too: returns a number in [0, 1). */
export type RandomSource = () => number;
export const systemRandom: RandomSource = Math.random;

export type IdFactory = (prefix: string) => string;

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** `task-` + 10 Crockford-style base32 characters: short enough to type, 50 bits of entropy. */
export const randomId: IdFactory = (prefix) => {
  const bytes = randomBytes(10);
  let suffix = '';
  for (const byte of bytes) suffix += ID_ALPHABET[byte % 32];
  return `${prefix}-${suffix}`;
};
