import { describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { selectProvider } from './select-provider.ts';

const nothingOnPath = (_command: string): boolean => false;
const claudeOnPath = (command: string): boolean => command === 'claude';
const noFiles = () => false;

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
    expect(selectProvider({ flag: 'ollama', env, isOnPath: claudeOnPath, isFile: noFiles })).toMatchObject({
      provider: 'ollama',
      source: 'flag',
    });
    expect(selectProvider({ env, isOnPath: claudeOnPath, isFile: noFiles })).toMatchObject({
      provider: 'openai',
      source: 'environment',
    });
  });

  it('auto-detects in order: Anthropic key, OpenAI key, OpenAI base URL, claude on PATH, Codex login', () => {
    const codexLogin = '/home/user/.codex/auth.json';
    const codexLoggedIn = (path: string) => path === codexLogin;
    const detect = (env: Record<string, string>, isOnPath = claudeOnPath, isFile = codexLoggedIn) =>
      selectProvider({ env: { HOME: '/home/user', ...env }, isOnPath, isFile });
    const everything = {
      ANTHROPIC_API_KEY: 'a',
      OPENAI_API_KEY: 'o',
      OPENAI_BASE_URL: 'http://localhost:8000/v1',
    };
    expect(detect(everything).provider).toBe('anthropic');
    const { ANTHROPIC_API_KEY: _anthropic, ...withoutAnthropic } = everything;
    // An API key that can plan wins over an agent CLI on PATH.
    expect(detect(withoutAnthropic)).toMatchObject({ provider: 'openai', reason: 'OPENAI_API_KEY is set' });
    expect(detect({ OPENAI_BASE_URL: 'http://x/v1' })).toMatchObject({
      provider: 'openai-compatible',
      source: 'auto-detected',
      reason: 'OPENAI_BASE_URL is set',
    });
    expect(detect({})).toMatchObject({ provider: 'claude-code', source: 'auto-detected' });
    expect(detect({ LOKI_CLAUDE_PATH: '/opt/claude/bin/claude' }, nothingOnPath)).toMatchObject({
      provider: 'claude-code',
      reason: 'LOKI_CLAUDE_PATH is set',
    });
    expect(detect({}, nothingOnPath)).toMatchObject({
      provider: 'codex',
      source: 'auto-detected',
      reason: `Codex is logged in (${codexLogin})`,
    });
  });

  it('detects Codex by its login in CODEX_HOME or by CODEX_API_KEY, not by the SDK alone', () => {
    const inCodexHome = (path: string) => path === '/srv/codex/auth.json';
    expect(
      selectProvider({
        env: { CODEX_HOME: '/srv/codex', HOME: '/home/user' },
        isOnPath: nothingOnPath,
        isFile: inCodexHome,
      }).provider,
    ).toBe('codex');
    expect(
      selectProvider({ env: { CODEX_API_KEY: 'c' }, isOnPath: nothingOnPath, isFile: noFiles }),
    ).toMatchObject({ provider: 'codex', reason: 'CODEX_API_KEY is set' });
    const error = selectionError(() =>
      selectProvider({
        env: { HOME: '/home/user' },
        isOnPath: (command) => command === 'codex',
        isFile: noFiles,
      }),
    );
    expect(error.code).toBe('PROVIDER_NONE');
  });

  it('treats empty variables and an empty flag as unset', () => {
    const env = { LOKI_PROVIDER: ' ', ANTHROPIC_API_KEY: '', OPENAI_API_KEY: 'o' };
    expect(selectProvider({ flag: '', env, isOnPath: nothingOnPath, isFile: noFiles }).provider).toBe(
      'openai',
    );
  });

  it('accepts names in any case', () => {
    expect(
      selectProvider({ flag: 'Claude-Code', env: {}, isOnPath: nothingOnPath, isFile: noFiles }).provider,
    ).toBe('claude-code');
  });

  it('with nothing found, exits 2 listing the options and pointing at loki demo', () => {
    const error = selectionError(() => selectProvider({ env: {}, isOnPath: nothingOnPath, isFile: noFiles }));
    expect(error.code).toBe('PROVIDER_NONE');
    expect(error.exitCode).toBe(2);
    for (const hint of [
      'ANTHROPIC_API_KEY',
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
      '`claude`',
      'codex login',
      'CODEX_API_KEY',
      'loki demo',
      'scripted',
    ]) {
      expect(error.message).toContain(hint);
    }
  });

  it('rejects an unknown name with exit 2 and the valid names', () => {
    const error = selectionError(() =>
      selectProvider({ flag: 'gemini', env: {}, isOnPath: nothingOnPath, isFile: noFiles }),
    );
    expect(error.code).toBe('PROVIDER_UNKNOWN');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"gemini"');
    expect(error.message).toContain(
      'anthropic, openai, openai-compatible, ollama, claude-code, codex, scripted',
    );
  });
});
