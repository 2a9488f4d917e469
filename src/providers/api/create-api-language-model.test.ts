import { describe, expect, it } from 'vitest';
import { isLokiError } from '../../errors/index.ts';
import { createApiLanguageModel, type CreateApiLanguageModelOptions } from './create-api-language-model.ts';

function creationError(options: CreateApiLanguageModelOptions) {
  try {
    createApiLanguageModel(options);
  } catch (error) {
    if (isLokiError(error)) return error;
    throw error;
  }
  throw new Error('expected createApiLanguageModel to throw');
}

describe('createApiLanguageModel', () => {
  it('maps tiers to the current Anthropic models and labels them', () => {
    const env = { ANTHROPIC_API_KEY: 'k' };
    const planning = createApiLanguageModel({ provider: 'anthropic', tier: 'planning', env });
    expect(planning).toMatchObject({
      provider: 'anthropic',
      modelId: 'claude-opus-5-5',
      baseUrl: 'https://api.anthropic.com/v1',
    });
    expect(planning.model.modelId).toBe('claude-opus-5-5');
    expect(createApiLanguageModel({ provider: 'anthropic', tier: 'fast', env }).modelId).toBe(
      'claude-haiku-5-5',
    );
  });

  it('lets the configuration override one tier and keeps the others', () => {
    const env = { OPENAI_API_KEY: 'k' };
    const modelOverrides = { fast: 'gpt-5.4-nano' };
    expect(createApiLanguageModel({ provider: 'openai', tier: 'fast', env, modelOverrides }).modelId).toBe(
      'gpt-5.4-nano',
    );
    expect(
      createApiLanguageModel({ provider: 'openai', tier: 'planning', env, modelOverrides }).modelId,
    ).toBe('gpt-5.5');
  });

  it('appends /v1 to ANTHROPIC_BASE_URL as Claude Code writes it, but never twice', () => {
    const model = (baseUrl: string) =>
      createApiLanguageModel({
        provider: 'anthropic',
        tier: 'default',
        env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: baseUrl },
      }).baseUrl;
    expect(model('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/v1');
    expect(model('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080/v1');
    expect(model('https://gateway.example/anthropic/v1')).toBe('https://gateway.example/anthropic/v1');
  });

  it('a missing key is a usage error naming the variable to set', () => {
    const anthropic = creationError({ provider: 'anthropic', tier: 'default', env: {} });
    expect(anthropic).toMatchObject({ code: 'PROVIDER_API_KEY_MISSING', exitCode: 2 });
    expect(anthropic.message).toContain('ANTHROPIC_API_KEY');
    expect(
      creationError({ provider: 'openai', tier: 'default', env: { OPENAI_API_KEY: '' } }).message,
    ).toContain('OPENAI_API_KEY');
  });

  it('openai-compatible needs a base URL and a configured model; ollama defaults to localhost', () => {
    expect(
      creationError({
        provider: 'openai-compatible',
        tier: 'default',
        env: {},
        modelOverrides: { default: 'm' },
      }),
    ).toMatchObject({
      code: 'PROVIDER_BASE_URL_MISSING',
      exitCode: 2,
    });
    expect(creationError({ provider: 'ollama', tier: 'fast', env: {} })).toMatchObject({
      code: 'PROVIDER_MODEL_REQUIRED',
    });
    const ollama = createApiLanguageModel({
      provider: 'ollama',
      tier: 'fast',
      env: {},
      modelOverrides: { fast: 'llama3.2' },
    });
    expect(ollama.baseUrl).toBe('http://localhost:11434/v1');
  });

  it('the dedicated variable wins over OPENAI_BASE_URL for openai-compatible', () => {
    const env = { OPENAI_BASE_URL: 'http://a.test/v1', LOKI_OPENAI_COMPATIBLE_BASE_URL: 'http://b.test/v1/' };
    const created = createApiLanguageModel({
      provider: 'openai-compatible',
      tier: 'default',
      env,
      modelOverrides: { default: 'm' },
    });
    expect(created.baseUrl).toBe('http://b.test/v1');
  });

  it('refuses a base URL that is not http(s)', () => {
    const env = { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'localhost:8000' };
    expect(creationError({ provider: 'openai', tier: 'default', env })).toMatchObject({
      code: 'PROVIDER_BASE_URL_INVALID',
    });
  });
});
