import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A CODEX_HOME whose config.toml points the real `codex` at a fake Responses API: a custom model
 * provider on plain HTTPS streaming (Codex tries WebSockets first against the OpenAI provider, which
 * the fake does not speak). It is made under /var/tmp, not /tmp: Codex's Linux sandbox does not find
 * its helper when CODEX_HOME is under /tmp, so every sandboxed command would fail.
 */
export class FakeCodexHome implements Disposable {
  readonly path: string;

  /** `envKey`: the variable Codex reads the API key from (OPENAI_API_KEY unless told). */
  constructor(baseUrl: string, options: { envKey?: string } = {}) {
    this.path = mkdtempSync(join('/var/tmp', 'loki-codex-home-'));
    writeFileSync(
      join(this.path, 'config.toml'),
      [
        // A model Codex offers its tools to as Responses API function tools.
        'model = "gpt-5.2-codex"',
        'model_provider = "fake_openai"',
        '[model_providers.fake_openai]',
        'name = "fake OpenAI"',
        `base_url = ${JSON.stringify(baseUrl)}`,
        `env_key = ${JSON.stringify(options.envKey ?? 'OPENAI_API_KEY')}`,
        'wire_api = "responses"',
        'supports_websockets = false',
        '',
      ].join('\n'),
    );
  }

  [Symbol.dispose](): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
