import type { Redactor } from './redactor.ts';

/** `bubblewrap`: isolated (read-only root, private /tmp, own PID and network namespaces). `plain`: not isolated. */
export type CommandRunnerKind = 'bubblewrap' | 'plain';

export interface CommandRequest {
  /** Run with `/bin/sh -c`. */
  command: string;
  /** Absolute; normally the worktree or a directory inside it. */
  cwd: string;
  /** Absolute; the worktree. With bubblewrap the only writable place besides a private /tmp. */
  writableDirectory: string;
  timeoutMilliseconds: number;
  /**
   * The complete environment of the command: nothing is inherited from the Loki process, so API
   * keys stay out unless a caller puts them here on purpose (see `buildSandboxEnvironment`).
   */
  env: Readonly<Record<string, string>>;
  /** Only honoured by runners that can take the network away (bubblewrap). */
  allowNetwork: boolean;
  signal?: AbortSignal;
  /** Per stream; beyond it the middle of the output is dropped (head and tail are kept). */
  maxOutputBytes: number;
  /** Defaults to a redactor built from `env`, which also knows the well-known token shapes. */
  redactor?: Redactor;
}

export interface CommandResult {
  /** Null when the command was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Redacted. */
  stdout: string;
  /** Redacted. */
  stderr: string;
  timedOut: boolean;
  durationMilliseconds: number;
  /** True when either stream exceeded `maxOutputBytes`. */
  truncated: boolean;
}

/**
 * Runs one shell command for an agent. Invariant for every adapter: when `run` settles, no process
 * started by the command is left running — on normal exit, on timeout and on abort.
 * On abort `run` rejects with the signal's reason, after the processes are gone.
 */
export interface CommandRunner {
  readonly kind: CommandRunnerKind;
  run(request: CommandRequest): Promise<CommandResult>;
}
