import type { Environment } from '../provider-name.ts';

/** Codex's sandbox for the commands it runs (`--sandbox`, the SDK's `sandboxMode`). */
export const CODEX_SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export type CodexSandboxMode = (typeof CODEX_SANDBOX_MODES)[number];

/**
 * Passed through from Loki's environment: the basics a process needs, Codex's own credentials,
 * home and endpoint, and proxy settings. Other providers' keys and Loki's settings stay out.
 */
const PASSED_THROUGH_VARIABLES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'CODEX_HOME',
  'CODEX_API_KEY',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'OPENAI_ORGANIZATION',
  'OPENAI_PROJECT',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'CODEX_CA_CERTIFICATE',
] as const;

export function buildCodexEnvironment(
  env: Environment,
  extraEnv: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of PASSED_THROUGH_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') environment[name] = value;
  }
  return { ...environment, ...extraEnv };
}
