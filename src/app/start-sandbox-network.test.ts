import { describe, expect, it } from 'vitest';
import { modelApiHost } from './start-sandbox-network.ts';

describe('modelApiHost', () => {
  it("is the host of the provider's base URL, with the port only when the URL names one", () => {
    expect(modelApiHost('claude-code', {})).toBe('api.anthropic.com');
    expect(modelApiHost('anthropic', { ANTHROPIC_BASE_URL: 'https://gateway.example.com/anthropic' })).toBe(
      'gateway.example.com',
    );
    expect(modelApiHost('codex', { OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1' })).toBe('127.0.0.1:4010');
    expect(modelApiHost('ollama', {})).toBe('localhost:11434');
    expect(
      modelApiHost('openai-compatible', { LOKI_OPENAI_COMPATIBLE_BASE_URL: 'http://[::1]:8000/v1' }),
    ).toBe('[::1]:8000');
    expect(modelApiHost('openai-compatible', {})).toBeNull();
    expect(modelApiHost('scripted', {})).toBeNull();
  });
});
