import { describeConfigSource, type LokiConfig, type ResolvedConfig } from '../config/index.ts';
import type { SandboxNetworkPolicy } from '../doctor/index.ts';
import { isLokiError } from '../errors/index.ts';
import { SandboxNetwork } from '../sandbox/index.ts';
import type { AppContext } from './app-context.ts';
import { resolveAppConfig } from './open-app-workspace.ts';

/** Where each provider's model API lives unless its environment names another base URL. */
const MODEL_API_URLS: Readonly<Record<string, { variables: readonly string[]; fallback?: string }>> = {
  anthropic: { variables: ['ANTHROPIC_BASE_URL'], fallback: 'https://api.anthropic.com' },
  'claude-code': { variables: ['ANTHROPIC_BASE_URL'], fallback: 'https://api.anthropic.com' },
  openai: { variables: ['OPENAI_BASE_URL'], fallback: 'https://api.openai.com' },
  codex: { variables: ['OPENAI_BASE_URL'], fallback: 'https://api.openai.com' },
  'openai-compatible': { variables: ['LOKI_OPENAI_COMPATIBLE_BASE_URL', 'OPENAI_BASE_URL'] },
  ollama: { variables: ['LOKI_OLLAMA_BASE_URL'], fallback: 'http://localhost:11434' },
};

/**
 * The host of the provider's base URL, which an agent CLI in the sandbox must reach, with its
 * port when the URL names one (then only that port is let through); none for scripted.
 */
export function modelApiHost(
  provider: string,
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  const known = MODEL_API_URLS[provider];
  if (known === undefined) return null;
  const configured = known.variables
    .map((name) => env[name])
    .find((value) => value !== undefined && value !== '');
  const url = configured ?? known.fallback;
  if (url === undefined || !URL.canParse(url)) return null;
  const { hostname, port } = new URL(url);
  return port === '' ? hostname : `${hostname}:${port}`;
}

/**
 * The sandbox network of one run or task, from `sandbox.network` and `sandbox.allowedHosts` plus
 * the model API host. Its proxy (for `registries`) lives until the caller disposes of it, when
 * the run ends; each refused connection is told through `warn`, naming the host and the key.
 */
export async function startSandboxNetwork(options: {
  config: LokiConfig;
  provider: string;
  env: Readonly<Record<string, string | undefined>>;
  warn: (text: string) => void;
}): Promise<SandboxNetwork> {
  const apiHost = modelApiHost(options.provider, options.env);
  const configured = options.config['sandbox.allowedHosts'];
  const allowedHosts =
    apiHost === null || configured.includes(apiHost) ? configured : [...configured, apiHost];
  return await SandboxNetwork.start({
    mode: options.config['sandbox.network'],
    allowedHosts,
    onRefused: (refused) => options.warn(refused.message),
  });
}

/** The configured policy for `loki doctor`; a configuration that cannot be read is a finding there. */
export function readSandboxNetworkPolicy(context: AppContext): SandboxNetworkPolicy {
  let resolved: ResolvedConfig;
  try {
    resolved = resolveAppConfig(context);
  } catch (error) {
    if (isLokiError(error)) return { error: error.message };
    throw error;
  }
  return {
    mode: resolved.values['sandbox.network'],
    allowedHosts: resolved.values['sandbox.allowedHosts'],
    source: describeConfigSource(resolved.sources['sandbox.network']),
  };
}
