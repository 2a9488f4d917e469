/** Where an effective configuration value came from, lowest precedence first. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'userFile'; path: string }
  | { kind: 'workspaceFile'; path: string }
  | { kind: 'env'; variable: string }
  | { kind: 'flag'; assignment: string };

/** The text users see, e.g. `env LOKI_MAX_RETRIES` or `flag -c maxRetries=3`. */
export function describeConfigSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'userFile':
      return `user file ${source.path}`;
    case 'workspaceFile':
      return `workspace file ${source.path}`;
    case 'env':
      return `env ${source.variable}`;
    case 'flag':
      return `flag -c ${source.assignment}`;
  }
}

/** The second half of an error message: how to get rid of a bad value from this source. */
export function describeConfigFix(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      // Unreachable for well-formed defaults; kept so every source has advice.
      return 'This is a bug in Loki; please report it.';
    case 'userFile':
    case 'workspaceFile':
      return `Fix the value or remove the key from ${source.path}.`;
    case 'env':
      return 'Fix the value or unset it.';
    case 'flag':
      return 'Fix the value or drop the flag.';
  }
}
