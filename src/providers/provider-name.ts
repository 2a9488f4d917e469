/**
 * Every way Loki can think: API providers run through Loki's own tool loop over the Vercel AI SDK,
 * agent CLIs run as subprocess runtimes, and `scripted` replays a script without any network.
 */
export const PROVIDER_NAMES = [
  'anthropic',
  'openai',
  'openai-compatible',
  'ollama',
  'claude-code',
  'codex',
  'scripted',
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The providers reached over HTTP through the AI SDK (`createApiLanguageModel`). */
export const API_PROVIDER_NAMES = ['anthropic', 'openai', 'openai-compatible', 'ollama'] as const;
export type ApiProviderName = (typeof API_PROVIDER_NAMES)[number];

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}

export function isApiProviderName(value: string): value is ApiProviderName {
  return (API_PROVIDER_NAMES as readonly string[]).includes(value);
}

/** The process environment, injected so tests decide which keys and URLs are set. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** An unset variable and one set to the empty string mean the same thing: not configured. */
export function readSetting(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
