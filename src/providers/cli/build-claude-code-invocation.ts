import type { Environment } from '../provider-name.ts';

/**
 * Variables passed through from Loki's environment: what a process needs to run (PATH, HOME,
 * locale), Claude Code's own credentials, configuration and endpoints, and proxy settings.
 * Everything else (other providers' keys, Loki's settings) stays out of the agent's reach.
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
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_MODEL',
  'ANTHROPIC_DEFAULT_OPUS_MODEL',
  'ANTHROPIC_DEFAULT_SONNET_MODEL',
  'ANTHROPIC_DEFAULT_HAIKU_MODEL',
  'ANTHROPIC_CUSTOM_HEADERS',
  'CLAUDE_CONFIG_DIR',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'API_TIMEOUT_MS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
] as const;

export interface ClaudeCodeEnvironmentOptions {
  /** Loki's environment, injected; only the variables listed above are read from it. */
  env: Environment;
  /** Claude Code's own retries per API call (CLAUDE_CODE_MAX_RETRIES); 0 leaves retrying to Loki. */
  maxRetries: number;
  /** Claude Code refuses to bypass permissions as root unless IS_SANDBOX=1. */
  isRoot: boolean;
  /** Set as given, last, e.g. CLAUDE_CODE_USE_BEDROCK and its AWS variables. */
  extraEnv?: Readonly<Record<string, string>>;
}

export function buildClaudeCodeEnvironment(options: ClaudeCodeEnvironmentOptions): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of PASSED_THROUGH_VARIABLES) {
    const value = options.env[name];
    if (value !== undefined && value !== '') environment[name] = value;
  }
  Object.assign(environment, {
    CLAUDE_CODE_MAX_RETRIES: String(options.maxRetries),
    // An agent run must not update the binary under itself, phone home, or open a browser.
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
  });
  // Loki runs agents in disposable worktrees; as root that is exactly the case IS_SANDBOX is for.
  if (options.isRoot) environment.IS_SANDBOX = '1';
  Object.assign(environment, options.extraEnv ?? {});
  return environment;
}
