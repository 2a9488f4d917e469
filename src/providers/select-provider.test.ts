import { describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { selectProvider } from './select-provider.ts';

const nothingOnPath = () => false;
const claudeOnPath = (command: string) => command === 'claude';

function selectionError(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (isLokiError(error)) return error;
    throw error;
  }
  throw new Error('expected selectProvider to throw');
}

describe('selectProvider', () => {
  it('takes --provider over LOKI_PROVIDER and over any detected credential', () => {
    const env = { LOKI_PROVIDER: 'openai', ANTHROPIC_API_KEY: 'k' };
    expect(selectProvider({ flag: 'ollama', env, isOnPath: claudeOnPath })).toMatchObject({
      provider: 'ollama',
      source: 'flag',
    });
    expect(selectProvider({ env, isOnPath: claudeOnPath })).toMatchObject({
      provider: 'openai',
      source: 'environment',
    });
  });

  it('auto-detects in order: Anthropic key, claude on PATH, OpenAI key, OpenAI base URL', () => {
    const everything = {
      ANTHROPIC_API_KEY: 'a',
      OPENAI_API_KEY: 'o',
      OPENAI_BASE_URL: 'http://localhost:8000/v1',
    };
    expect(selectProvider({ env: everything, isOnPath: claudeOnPath }).provider).toBe('anthropic');
    const { ANTHROPIC_API_KEY: _anthropic, ...withoutAnthropic } = everything;
    expect(selectProvider({ env: withoutAnthropic, isOnPath: claudeOnPath }).provider).toBe('claude-code');
    expect(selectProvider({ env: withoutAnthropic, isOnPath: nothingOnPath }).provider).toBe('openai');
    expect(
      selectProvider({ env: { OPENAI_BASE_URL: 'http://x/v1' }, isOnPath: nothingOnPath }),
    ).toMatchObject({
      provider: 'openai-compatible',
      source: 'auto-detected',
      reason: 'OPENAI_BASE_URL is set',
    });
  });

  it('treats empty variables and an empty flag as unset', () => {
    const env = { LOKI_PROVIDER: ' ', ANTHROPIC_API_KEY: '', OPENAI_API_KEY: 'o' };
    expect(selectProvider({ flag: '', env, isOnPath: nothingOnPath }).provider).toBe('openai');
  });

  it('accepts names in any case', () => {
    expect(selectProvider({ flag: 'Claude-Code', env: {}, isOnPath: nothingOnPath }).provider).toBe(
      'claude-code',
    );
  });

  it('with nothing found, exits 2 listing the options and pointing at loki demo', () => {
    const error = selectionError(() => selectProvider({ env: {}, isOnPath: nothingOnPath }));
    expect(error.code).toBe('PROVIDER_NONE');
    expect(error.exitCode).toBe(2);
    for (const hint of [
      'ANTHROPIC_API_KEY',
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
      '`claude`',
      'loki demo',
      'scripted',
    ]) {
      expect(error.message).toContain(hint);
    }
  });

  it('rejects an unknown name with exit 2 and the valid names', () => {
    const error = selectionError(() => selectProvider({ flag: 'gemini', env: {}, isOnPath: nothingOnPath }));
    expect(error.code).toBe('PROVIDER_UNKNOWN');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"gemini"');
    expect(error.message).toContain(
      'anthropic, openai, openai-compatible, ollama, claude-code, codex, scripted',
    );
  });
});
