import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { usageError } from '../../errors/index.ts';
import { type ModelOverrides, type ModelTier, resolveModelId } from './model-tiers.ts';
import { type ApiProviderName, type Environment, readSetting } from '../provider-name.ts';

export interface CreateApiLanguageModelOptions {
  provider: ApiProviderName;
  tier: ModelTier;
  env: Environment;
  modelOverrides?: ModelOverrides;
  /** Replaces the global fetch, e.g. to count or delay requests in tests. */
  fetch?: typeof globalThis.fetch;
}

export interface ApiLanguageModel {
  /** An AI SDK language model: pass it to `streamText` / `generateText`. */
  model: LanguageModelV4;
  provider: ApiProviderName;
  modelId: string;
  /** Where requests go, shown by `loki doctor` and in errors. */
  baseUrl: string;
}

const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const OLLAMA_DEFAULT_BASE_URL = 'http://localhost:11434/v1';

/**
 * Builds the AI SDK model for one provider and tier. Keys and URLs are read from the injected
 * environment and passed explicitly, so the SDK never falls back to `process.env` behind our back.
 */
export function createApiLanguageModel(options: CreateApiLanguageModelOptions): ApiLanguageModel {
  const modelId = resolveModelId(options.provider, options.tier, options.modelOverrides);
  switch (options.provider) {
    case 'anthropic':
      return createAnthropicModel(options.env, modelId, options.fetch);
    case 'openai':
      return createOpenAIModel(options.env, modelId, options.fetch);
    case 'openai-compatible':
      return createOpenAICompatibleModel(options.env, modelId, options.fetch);
    case 'ollama':
      return createOllamaModel(options.env, modelId, options.fetch);
  }
}

function createAnthropicModel(
  env: Environment,
  modelId: string,
  fetch?: typeof globalThis.fetch,
): ApiLanguageModel {
  const apiKey = requireApiKey(env, 'ANTHROPIC_API_KEY', 'anthropic', 'your Anthropic API key');
  const baseUrl = anthropicBaseUrl(env);
  const provider = createAnthropic({ apiKey, baseURL: baseUrl, fetch, name: 'anthropic' });
  return { model: provider.messages(modelId), provider: 'anthropic', modelId, baseUrl };
}

function createOpenAIModel(
  env: Environment,
  modelId: string,
  fetch?: typeof globalThis.fetch,
): ApiLanguageModel {
  const apiKey = requireApiKey(env, 'OPENAI_API_KEY', 'openai', 'your OpenAI API key');
  const baseUrl = optionalBaseUrl(env, 'OPENAI_BASE_URL') ?? OPENAI_DEFAULT_BASE_URL;
  const provider = createOpenAI({ apiKey, baseURL: baseUrl, fetch, name: 'openai' });
  return { model: provider.responses(modelId), provider: 'openai', modelId, baseUrl };
}

function createOpenAICompatibleModel(
  env: Environment,
  modelId: string,
  fetch?: typeof globalThis.fetch,
): ApiLanguageModel {
  const baseUrl =
    optionalBaseUrl(env, 'LOKI_OPENAI_COMPATIBLE_BASE_URL') ?? optionalBaseUrl(env, 'OPENAI_BASE_URL');
  if (baseUrl === undefined) {
    throw usageError(
      'PROVIDER_BASE_URL_MISSING',
      'the openai-compatible provider needs the server URL: set LOKI_OPENAI_COMPATIBLE_BASE_URL (or ' +
        'OPENAI_BASE_URL) to its API root, e.g. http://localhost:8000/v1.',
      { provider: 'openai-compatible' },
    );
  }
  // Local servers usually need no key; gateways do, and take it as a bearer token.
  const apiKey = readSetting(env, 'LOKI_OPENAI_COMPATIBLE_API_KEY') ?? readSetting(env, 'OPENAI_API_KEY');
  const provider = createOpenAICompatible({
    name: 'openai-compatible',
    baseURL: baseUrl,
    apiKey,
    fetch,
    // Without this the server may omit usage from streams and every call would look free.
    includeUsage: true,
  });
  return { model: provider.chatModel(modelId), provider: 'openai-compatible', modelId, baseUrl };
}

function createOllamaModel(
  env: Environment,
  modelId: string,
  fetch?: typeof globalThis.fetch,
): ApiLanguageModel {
  const baseUrl = optionalBaseUrl(env, 'LOKI_OLLAMA_BASE_URL') ?? OLLAMA_DEFAULT_BASE_URL;
  const provider = createOpenAICompatible({ name: 'ollama', baseURL: baseUrl, fetch, includeUsage: true });
  return { model: provider.chatModel(modelId), provider: 'ollama', modelId, baseUrl };
}

function requireApiKey(env: Environment, variable: string, provider: ApiProviderName, what: string): string {
  const apiKey = readSetting(env, variable);
  if (apiKey !== undefined) return apiKey;
  throw usageError(
    'PROVIDER_API_KEY_MISSING',
    `the ${provider} provider needs an API key: set ${variable} to ${what}, or choose another provider ` +
      'with --provider (run `loki demo` to try Loki offline).',
    { provider, environmentVariable: variable },
  );
}

/**
 * `ANTHROPIC_BASE_URL` follows the Anthropic SDKs and Claude Code: the API root *without* `/v1`
 * (they call `${ANTHROPIC_BASE_URL}/v1/messages`). The AI SDK wants the versioned root, so `/v1`
 * is appended unless the user already wrote it; one variable then serves both runtimes.
 */
function anthropicBaseUrl(env: Environment): string {
  const configured = optionalBaseUrl(env, 'ANTHROPIC_BASE_URL');
  if (configured === undefined) return ANTHROPIC_DEFAULT_BASE_URL;
  return configured.endsWith('/v1') ? configured : `${configured}/v1`;
}

/** Reads a base URL, refusing anything that is not an http(s) URL, without a trailing slash. */
function optionalBaseUrl(env: Environment, variable: string): string | undefined {
  const value = readSetting(env, variable);
  if (value === undefined) return undefined;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw usageError(
      'PROVIDER_BASE_URL_INVALID',
      `${variable} must be an http:// or https:// URL, but it is "${value}". Fix or unset it.`,
      { environmentVariable: variable },
    );
  }
  return value.replace(/\/+$/, '');
}
