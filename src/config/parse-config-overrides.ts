import { usageError } from '../errors/index.ts';

/**
 * Turns repeated `-c key=value` flags into a record. Only the shape is checked here; whether the
 * key exists and the value is valid is decided by loadConfig, which knows where it came from.
 * A key given twice keeps the last value, as with `git -c`.
 */
export function parseConfigOverrides(assignments: readonly string[]): Record<string, string> {
  // No prototype, so a key like "__proto__" is stored and later rejected as unknown, not swallowed.
  const overrides: Record<string, string> = Object.create(null);
  for (const assignment of assignments) {
    const separatorIndex = assignment.indexOf('=');
    const key = separatorIndex === -1 ? '' : assignment.slice(0, separatorIndex).trim();
    if (key === '') {
      throw usageError(
        'LOKI_CONFIG_OVERRIDE_MALFORMED',
        `invalid -c flag "${assignment}": expected key=value, e.g. -c maxParallelAgents=4`,
        { assignment },
      );
    }
    overrides[key] = assignment.slice(separatorIndex + 1);
  }
  return overrides;
}
