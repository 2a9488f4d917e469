import { usageError } from '../errors/index.ts';

/**
 * A flag's value as a whole number from `minimum` (default 1) to `maximum`, or a usage error naming
 * the flag (exit 2).
 */
export function parseWholeNumberOption(value: string, option: string, maximum: number, minimum = 1): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < minimum || parsed > maximum) {
    throw usageError(
      'CLI_INVALID_OPTION',
      `${option} must be a whole number from ${minimum} to ${maximum}, got "${value}"`,
    );
  }
  return parsed;
}
