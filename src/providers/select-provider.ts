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
 * otherwise the first credential found, in a fixed order so the same machine always gets the same
 * answer. A direct API key is preferred over the Claude Code CLI because Loki's own tool loop
 * gives it per-call usage, retries and budgets; the CLI comes before an OpenAI key because most
 * users with both installed Claude Code on purpose.
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
  if (readSetting(options.env, 'ANTHROPIC_API_KEY') !== undefined) {
    return { provider: 'anthropic', source: 'auto-detected', reason: 'ANTHROPIC_API_KEY is set' };
  }
  if (options.isOnPath('claude')) {
    return { provider: 'claude-code', source: 'auto-detected', reason: '`claude` (Claude Code) is on PATH' };
  }
  if (readSetting(options.env, 'OPENAI_API_KEY') !== undefined) {
    return { provider: 'openai', source: 'auto-detected', reason: 'OPENAI_API_KEY is set' };
  }
  if (readSetting(options.env, 'OPENAI_BASE_URL') !== undefined) {
    return { provider: 'openai-compatible', source: 'auto-detected', reason: 'OPENAI_BASE_URL is set' };
  }
  throw usageError(
    'PROVIDER_NONE',
    [
      'no model provider found. Do one of these:',
      '  - set ANTHROPIC_API_KEY (Anthropic API)',
      '  - install Claude Code so `claude` is on PATH',
      '  - set OPENAI_API_KEY (OpenAI API)',
      '  - set OPENAI_BASE_URL to an OpenAI-compatible server (vLLM, llama.cpp, LM Studio, a gateway)',
      `  - or choose one with --provider or LOKI_PROVIDER (${PROVIDER_NAMES.join(', ')})`,
      'To try Loki offline first, run `loki demo` (it uses the scripted model, no key needed).',
    ].join('\n'),
    { validProviders: [...PROVIDER_NAMES] },
  );
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
