import { join } from 'node:path';
import { usageError } from '../errors/index.ts';
import {
  type Environment,
  isProviderName,
  PROVIDER_NAMES,
  type ProviderName,
  readSetting,
} from './provider-name.ts';

export interface SelectProviderOptions {
  /** The `--provider` flag as typed, if given; it wins over `LOKI_PROVIDER`. */
  flag?: string | undefined;
  env: Environment;
  /** Whether a command can be found on PATH (injected so tests decide what is installed). */
  isOnPath: (command: string) => boolean;
  /** Whether a file exists (injected so tests decide whether Codex is logged in). */
  isFile: (path: string) => boolean;
}

export type ProviderSelectionSource = 'flag' | 'environment' | 'auto-detected';

export interface ProviderSelection {
  provider: ProviderName;
  source: ProviderSelectionSource;
  /** One line for `loki doctor` and the run header: why this provider was chosen. */
  reason: string;
}

/**
 * Picks the provider: an explicit choice (`--provider`, then `LOKI_PROVIDER`) always wins;
 * otherwise the first provider found that can run the whole pipeline, in a fixed order so the
 * same machine always gets the same answer. A direct API key comes first because Loki's own tool
 * loop gives it per-call usage, retries and budgets; then the agent CLIs the user has signed in to,
 * Claude Code before Codex (the Codex SDK ships its own binary, so only a login shows it is meant).
 */
export function selectProvider(options: SelectProviderOptions): ProviderSelection {
  const flag = options.flag?.trim();
  if (flag !== undefined && flag !== '') {
    return { provider: parseProviderName(flag, '--provider'), source: 'flag', reason: `--provider ${flag}` };
  }
  const fromEnvironment = readSetting(options.env, 'LOKI_PROVIDER');
  if (fromEnvironment !== undefined) {
    return {
      provider: parseProviderName(fromEnvironment, 'LOKI_PROVIDER'),
      source: 'environment',
      reason: `LOKI_PROVIDER=${fromEnvironment}`,
    };
  }
  const detected = AUTO_DETECTED.find((candidate) => candidate.isAvailable(options));
  if (detected !== undefined) {
    return { provider: detected.provider, source: 'auto-detected', reason: detected.reason(options.env) };
  }
  throw usageError(
    'PROVIDER_NONE',
    [
      'no model provider found. Do one of these:',
      '  - set ANTHROPIC_API_KEY (Anthropic API)',
      '  - set OPENAI_API_KEY (OpenAI API)',
      '  - set OPENAI_BASE_URL to an OpenAI-compatible server (vLLM, llama.cpp, LM Studio, a gateway)',
      '  - install Claude Code so `claude` is on PATH',
      '  - log in to Codex (`codex login`) or set CODEX_API_KEY',
      `  - or choose one with --provider or LOKI_PROVIDER (${PROVIDER_NAMES.join(', ')})`,
      'To try Loki offline first, run `loki demo` (it uses the scripted model, no key needed).',
    ].join('\n'),
    { validProviders: [...PROVIDER_NAMES] },
  );
}

interface DetectedProvider {
  provider: ProviderName;
  isAvailable: (options: SelectProviderOptions) => boolean;
  reason: (env: Environment) => string;
}

const isSet = (name: string) => (options: SelectProviderOptions) =>
  readSetting(options.env, name) !== undefined;

/** In order of preference; every one of them runs every phase (planning included). */
const AUTO_DETECTED: readonly DetectedProvider[] = [
  {
    provider: 'anthropic',
    isAvailable: isSet('ANTHROPIC_API_KEY'),
    reason: () => 'ANTHROPIC_API_KEY is set',
  },
  { provider: 'openai', isAvailable: isSet('OPENAI_API_KEY'), reason: () => 'OPENAI_API_KEY is set' },
  {
    provider: 'openai-compatible',
    isAvailable: isSet('OPENAI_BASE_URL'),
    reason: () => 'OPENAI_BASE_URL is set',
  },
  {
    provider: 'claude-code',
    isAvailable: (options) => isSet('LOKI_CLAUDE_PATH')(options) || options.isOnPath('claude'),
    reason: (env) =>
      readSetting(env, 'LOKI_CLAUDE_PATH') !== undefined
        ? 'LOKI_CLAUDE_PATH is set'
        : '`claude` (Claude Code) is on PATH',
  },
  {
    provider: 'codex',
    isAvailable: (options) =>
      readSetting(options.env, 'CODEX_API_KEY') !== undefined || isCodexLoggedIn(options),
    reason: (env) =>
      readSetting(env, 'CODEX_API_KEY') !== undefined
        ? 'CODEX_API_KEY is set'
        : `Codex is logged in (${codexLoginFile(env) ?? 'auth.json'})`,
  },
];

/**
 * Where `codex login` keeps its credentials: `auth.json` in CODEX_HOME, by default `~/.codex`.
 * A login kept in the system keyring is not seen here; `--provider codex` still uses it.
 */
function codexLoginFile(env: Environment): string | undefined {
  const home = readSetting(env, 'HOME');
  const codexHome = readSetting(env, 'CODEX_HOME') ?? (home === undefined ? undefined : join(home, '.codex'));
  return codexHome === undefined ? undefined : join(codexHome, 'auth.json');
}

function isCodexLoggedIn(options: SelectProviderOptions): boolean {
  const loginFile = codexLoginFile(options.env);
  return loginFile !== undefined && options.isFile(loginFile);
}

function parseProviderName(value: string, origin: string): ProviderName {
  const normalised = value.toLowerCase();
  if (isProviderName(normalised)) return normalised;
  throw usageError(
    'PROVIDER_UNKNOWN',
    `unknown provider "${value}" (from ${origin}). Valid providers: ${PROVIDER_NAMES.join(', ')}.`,
    { provider: value, validProviders: [...PROVIDER_NAMES] },
  );
}
