import { join } from 'node:path';
import type { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import {
  conflictingConfigValuesError,
  invalidConfigValueError,
  unknownConfigKeyError,
} from './config-errors.ts';
import {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigKeyInfo,
  configSchema,
  configShape,
  findConfigKey,
  type LokiConfig,
} from './config-schema.ts';
import type { ConfigSource } from './config-source.ts';
import { readConfigFile } from './read-config-file.ts';

export interface LoadConfigOptions {
  /** The directory holding `.loki/`; its `.loki/config/loki.yaml` is the workspace file. */
  workspaceRoot: string;
  /** The process environment, injected: `HOME` locates the user file, `LOKI_*` override files. */
  env: Readonly<Record<string, string | undefined>>;
  /** `-c key=value` flags, already split by parseConfigOverrides. */
  overrides?: Readonly<Record<string, string>>;
}

export interface ResolvedConfig {
  values: LokiConfig;
  sources: Record<ConfigKey, ConfigSource>;
}

interface ConfigEntry {
  key: string;
  /** As written: a YAML value for files, always a string for env vars and flags. */
  rawValue: unknown;
  source: ConfigSource;
  /** Env vars and flags arrive as text and are converted by the key's type before validation. */
  isText: boolean;
}

export function userConfigPath(env: LoadConfigOptions['env']): string | undefined {
  const home = env.HOME;
  return home === undefined || home === '' ? undefined : join(home, '.loki', 'config.yaml');
}

export function workspaceConfigPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.loki', 'config', 'loki.yaml');
}

/**
 * Resolves the effective configuration. Precedence, lowest first: defaults, the user file
 * `~/.loki/config.yaml`, the workspace file `.loki/config/loki.yaml`, `LOKI_*` env vars, `-c`
 * flags. Every entry is validated where it is read, so a bad value is reported with the place
 * it came from even when a higher layer would have overridden it: a broken file is never
 * silently ignored.
 */
export function loadConfig(options: LoadConfigOptions): ResolvedConfig {
  const entries: ConfigEntry[] = [];

  const userPath = userConfigPath(options.env);
  if (userPath !== undefined) entries.push(...fileEntries(userPath, { kind: 'userFile', path: userPath }));
  const workspacePath = workspaceConfigPath(options.workspaceRoot);
  entries.push(...fileEntries(workspacePath, { kind: 'workspaceFile', path: workspacePath }));

  for (const info of CONFIG_KEYS) {
    const rawValue = options.env[info.environmentVariable];
    if (rawValue === undefined) continue;
    entries.push({
      key: info.key,
      rawValue,
      source: { kind: 'env', variable: info.environmentVariable },
      isText: true,
    });
  }

  for (const [key, rawValue] of Object.entries(options.overrides ?? {})) {
    entries.push({ key, rawValue, source: { kind: 'flag', assignment: `${key}=${rawValue}` }, isText: true });
  }

  const values: Record<string, unknown> = {};
  const sources = Object.fromEntries(CONFIG_KEYS.map((info) => [info.key, { kind: 'default' }])) as Record<
    ConfigKey,
    ConfigSource
  >;

  for (const entry of entries) {
    const info = findConfigKey(entry.key);
    if (info === undefined) throw unknownConfigKeyError(entry.key, entry.source);
    const candidate =
      entry.isText && typeof entry.rawValue === 'string' ? fromText(entry.rawValue, info) : entry.rawValue;
    const result = configShape[info.key].safeParse(candidate);
    if (!result.success) {
      const issue = result.error.issues[0];
      // A nested value (providerLimits) names the field inside it that is wrong.
      const reason = `${issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `}${issue?.message ?? 'invalid value'}`;
      throw invalidConfigValueError(info.key, entry.rawValue, entry.source, reason);
    }
    values[info.key] = result.data;
    sources[info.key] = entry.source;
  }

  // Each value is valid on its own by now; what can still fail are rules across keys.
  const result = configSchema.safeParse(values);
  if (result.success) return { values: result.data, sources };
  throw crossFieldError(result.error.issues[0], values, sources);
}

function crossFieldError(
  issue: z.core.$ZodIssue | undefined,
  values: Readonly<Record<string, unknown>>,
  sources: Record<ConfigKey, ConfigSource>,
): LokiError {
  const key = findConfigKey(String(issue?.path[0]))?.key;
  const relatedKey =
    issue?.code === 'custom' ? findConfigKey(String(issue.params?.relatedKey))?.key : undefined;
  if (issue === undefined || key === undefined || relatedKey === undefined) {
    // Every single-key rule was checked entry by entry, so only a cross-key rule can land here.
    return new LokiError(`configuration rejected without a cross-key reason: ${JSON.stringify(issue)}`, {
      code: 'LOKI_CONFIG_SCHEMA_BUG',
      category: 'internal',
    });
  }
  return conflictingConfigValuesError(
    { key, value: values[key], source: sources[key] },
    { key: relatedKey, value: values[relatedKey], source: sources[relatedKey] },
    issue.message,
  );
}

function fileEntries(path: string, source: ConfigSource): ConfigEntry[] {
  const pairs = readConfigFile(path, source) ?? [];
  return pairs.flatMap(([key, rawValue]) =>
    expandGroup(key, rawValue).map(([entryKey, entryValue]) => ({
      key: entryKey,
      rawValue: entryValue,
      source,
      isText: false,
    })),
  );
}

/**
 * Dotted keys (`sandbox.network`) may also be written nested in a file, as YAML people expect:
 * `sandbox:` then `network: none` below it. Anything that is not such a group is kept as it is,
 * so an unknown key is still reported by its own name.
 */
function expandGroup(key: string, rawValue: unknown): Array<[string, unknown]> {
  const isGroup =
    findConfigKey(key) === undefined &&
    CONFIG_KEYS.some((info) => info.key.startsWith(`${key}.`)) &&
    typeof rawValue === 'object' &&
    rawValue !== null &&
    !Array.isArray(rawValue);
  if (!isGroup) return [[key, rawValue]];
  return Object.entries(rawValue).map(([member, value]): [string, unknown] => [`${key}.${member}`, value]);
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/**
 * Converts text to the key's type, strictly: `"12abc"`, `"1.5"`, `" 12"` and `""` are left as
 * text so the schema rejects them with the key's own reason, instead of being read as 12 or 0
 * the way Number() and parseInt() would. A mapping (providerLimits) is written as JSON.
 */
function fromText(text: string, info: ConfigKeyInfo): unknown {
  if (typeof info.defaultValue === 'string') return text;
  // A list: JSON, or names separated by commas (`registry.npmjs.org,pypi.org`).
  if (Array.isArray(info.defaultValue)) {
    return text.trim().startsWith('[')
      ? parseJsonText(text)
      : text.split(',').filter((name) => name.trim() !== '');
  }
  if (typeof info.defaultValue === 'object') return parseJsonText(text);
  if (typeof info.defaultValue === 'boolean') {
    const word = text.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return text;
  }
  // Decimals are read as numbers too; whole-number keys then reject them with their own reason.
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** JSON text as its value; anything else stays text, which the schema then rejects with its reason. */
function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) return text;
    throw error;
  }
}
