import { join } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors/index.ts';
import { readConfigFile } from './read-config-file.ts';

const breakerSettingsShape = {
  failureThreshold: z.number().int().min(1).max(1000),
  cooldownSeconds: z.number().int().min(1).max(86_400),
  halfOpenRequests: z.number().int().min(1).max(100),
};

const circuitBreakerFileSchema = z.strictObject({
  defaults: z.strictObject(breakerSettingsShape).partial().optional(),
  overrides: z.record(z.string(), z.strictObject(breakerSettingsShape).partial()).optional(),
});

export interface BreakerSettingsConfig {
  failureThreshold: number;
  cooldownSeconds: number;
  halfOpenRequests: number;
}

export interface CircuitBreakerConfig {
  defaults: BreakerSettingsConfig;
  /** Keyed by agent type (`ops-security`) or provider (`anthropic`). */
  overrides: Record<string, Partial<BreakerSettingsConfig>>;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettingsConfig = {
  failureThreshold: 5,
  cooldownSeconds: 300,
  halfOpenRequests: 3,
};

export function circuitBreakerConfigPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.loki', 'config', 'circuit-breakers.yaml');
}

/** Reads `.loki/config/circuit-breakers.yaml` (missing file → defaults); invalid content → exit 2. */
export function loadCircuitBreakerConfig(workspaceRoot: string): CircuitBreakerConfig {
  const path = circuitBreakerConfigPath(workspaceRoot);
  const entries = readConfigFile(path, { kind: 'workspaceFile', path });
  const parsed = circuitBreakerFileSchema.safeParse(Object.fromEntries(entries ?? []));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') || '(file)';
    throw usageError(
      'LOKI_CONFIG_INVALID',
      `invalid configuration: ${key} in ${path}: ${issue?.message ?? 'invalid'}. ` +
        'Allowed: defaults/overrides.<agent-type or provider> with failureThreshold, cooldownSeconds, halfOpenRequests (whole numbers).',
      { path, key },
    );
  }
  return {
    defaults: { ...DEFAULT_BREAKER_SETTINGS, ...parsed.data.defaults },
    overrides: parsed.data.overrides ?? {},
  };
}

/** Settings for a breaker named `provider:<name>` or `agent-type:<type>`: defaults, then the override for <name>. */
export function breakerSettingsFor(config: CircuitBreakerConfig, breakerName: string): BreakerSettingsConfig {
  const key = breakerName.slice(breakerName.indexOf(':') + 1);
  return { ...config.defaults, ...config.overrides[key] };
}
