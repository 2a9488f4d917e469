/**
 * The environment a sandboxed command gets is built, never inherited: an agent's command must not
 * see the API keys Loki itself runs with. Only variables that tools need to work are copied.
 */
const DEFAULT_PASS_THROUGH_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TERM',
  'TZ',
];
const PASS_THROUGH_PREFIXES: readonly string[] = ['LC_'];

export interface BuildSandboxEnvironmentOptions {
  /** More names to copy from `source` (for example `NODE_OPTIONS`); copied even if they look secret. */
  passThroughNames?: readonly string[];
  /** Set last, overriding copied values. */
  overrides?: Readonly<Record<string, string>>;
}

export function buildSandboxEnvironment(
  source: Readonly<Record<string, string | undefined>>,
  options: BuildSandboxEnvironmentOptions = {},
): Record<string, string> {
  const environment: Record<string, string> = {};
  const names = new Set([...DEFAULT_PASS_THROUGH_NAMES, ...(options.passThroughNames ?? [])]);
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (names.has(name) || PASS_THROUGH_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      environment[name] = value;
    }
  }
  return { ...environment, ...options.overrides };
}
