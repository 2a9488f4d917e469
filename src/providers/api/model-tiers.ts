import { usageError } from '../../errors/index.ts';
import type { ApiProviderName } from '../provider-name.ts';

/**
 * What kind of thinking a task needs: `planning` for architecture and security review, `default`
 * for implementation, `fast` for tests, docs and simple edits.
 */
export const MODEL_TIERS = ['planning', 'default', 'fast'] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

/** A per-tier model choice from the configuration; a tier left out keeps the provider default. */
export type ModelOverrides = Partial<Record<ModelTier, string>>;

/**
 * The built-in tier → model mapping. Anthropic: the current Opus / Sonnet / Haiku; OpenAI: the
 * flagship, the previous flagship at half its price, and the mini. OpenAI-compatible servers and
 * Ollama serve whatever the user installed, so they have no defaults: guessing a model name
 * would only turn into a "model not found" at the first call.
 */
export const DEFAULT_MODEL_IDS: Readonly<
  Record<ApiProviderName, Readonly<Partial<Record<ModelTier, string>>>>
> = {
  anthropic: { planning: 'claude-opus-5-5', default: 'claude-sonnet-5-5', fast: 'claude-haiku-5-5' },
  openai: { planning: 'gpt-5.5', default: 'gpt-5.4', fast: 'gpt-5.4-mini' },
  'openai-compatible': {},
  ollama: {},
};

export function resolveModelId(
  provider: ApiProviderName,
  tier: ModelTier,
  overrides: ModelOverrides = {},
): string {
  const override = overrides[tier]?.trim();
  if (override !== undefined && override !== '') return override;
  const builtIn = DEFAULT_MODEL_IDS[provider][tier];
  if (builtIn !== undefined) return builtIn;
  throw usageError(
    'PROVIDER_MODEL_REQUIRED',
    `no model is configured for the "${tier}" tier of the ${provider} provider, which has no built-in ` +
      `models. Name the model your server serves (for example "qwen2.5-coder:14b") for the ` +
      `planning, default and fast tiers in the configuration's model overrides.`,
    { provider, tier },
  );
}
