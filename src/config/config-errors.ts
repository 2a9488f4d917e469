import { editDistance } from '../text/index.ts';
import { type LokiError, usageError } from '../errors/index.ts';
import { CONFIG_KEYS } from './config-schema.ts';
import { type ConfigSource, describeConfigFix, describeConfigSource } from './config-source.ts';

/** JSON keeps strings quoted and shows nested YAML values as written, so `"12"` (text) and `12` (number) differ. */
function formatValue(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

export function invalidConfigValueError(
  key: string,
  value: unknown,
  source: ConfigSource,
  reason: string,
): LokiError {
  const message =
    `invalid configuration: ${key} = ${formatValue(value)} (from ${describeConfigSource(source)}): ` +
    `${reason}. ${describeConfigFix(source)}`;
  return usageError('LOKI_CONFIG_INVALID', message, { key, value, source });
}

export function conflictingConfigValuesError(
  first: { key: string; value: unknown; source: ConfigSource },
  second: { key: string; value: unknown; source: ConfigSource },
  reason: string,
): LokiError {
  const message =
    `invalid configuration: ${first.key} = ${formatValue(first.value)} (from ${describeConfigSource(first.source)}) ` +
    `conflicts with ${second.key} = ${formatValue(second.value)} (from ${describeConfigSource(second.source)}): ${reason}`;
  return usageError('LOKI_CONFIG_INVALID', message, { keys: [first.key, second.key] });
}

export function unknownConfigKeyError(key: string, source: ConfigSource): LokiError {
  const suggestion = closestConfigKey(key);
  const advice =
    suggestion === undefined
      ? `Known keys: ${CONFIG_KEYS.map((info) => info.key).join(', ')}.`
      : `Did you mean "${suggestion}"?`;
  const message = `invalid configuration: unknown key "${key}" (from ${describeConfigSource(source)}). ${advice}`;
  return usageError('LOKI_CONFIG_UNKNOWN_KEY', message, { key, source, suggestion });
}

/**
 * Compares keys with case, `_`, `-` and a `LOKI_` prefix ignored, so `max_retries` and
 * `LOKI_MAX_RETRIES` written into a YAML file both lead to `maxRetries`.
 */
export function closestConfigKey(key: string): string | undefined {
  const normalizedKey = normalizeKey(key);
  let best: { key: string; distance: number } | undefined;
  for (const info of CONFIG_KEYS) {
    const normalizedCandidate = normalizeKey(info.key);
    const distance = editDistance(normalizedKey, normalizedCandidate);
    // Beyond a third of the word the "suggestion" is a guess that misleads more than it helps.
    const tolerance = Math.max(2, Math.floor(normalizedCandidate.length / 3));
    if (distance <= tolerance && (best === undefined || distance < best.distance)) {
      best = { key: info.key, distance };
    }
  }
  return best?.key;
}

function normalizeKey(key: string): string {
  return key
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .replace(/^loki/, '');
}
