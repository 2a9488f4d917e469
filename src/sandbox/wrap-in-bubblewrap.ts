import { realpathSync } from 'node:fs';
import { LokiError } from '../errors/index.ts';
import { buildSandboxArguments } from './build-sandbox-arguments.ts';
import { findExecutable } from './find-executable.ts';
import { DEFAULT_HIDDEN_HOME_PATHS, findHiddenPaths } from './hidden-home-paths.ts';
import type { SandboxNetworkAccess } from './sandbox-network.ts';

export interface WrappedInvocation {
  executable: string;
  arguments: string[];
}

export interface WrapInBubblewrapOptions {
  bubblewrapPath: string;
  /** The agent's worktree: writable, and the working directory. */
  worktree: string;
  /** Other places the program must write (its own config and session files); bound only if they exist. */
  writablePaths: readonly string[];
  /** PATH used to find the program when it is given by name. */
  pathVariable: string | undefined;
  /**
   * The run's network policy (see SandboxNetwork). Default: the host's network. With
   * `registries`, the model API host must be on the allow list, or the CLI cannot reach it.
   */
  network?: SandboxNetworkAccess;
  /**
   * Whose credential files to mask (see DEFAULT_HIDDEN_HOME_PATHS); undefined masks nothing. The
   * writable paths are never masked: they hold the CLI's own login.
   */
  homeDirectory?: string;
  hiddenHomePaths?: readonly string[];
}

/**
 * Runs a whole agent CLI (Claude Code, Codex) inside the same sandbox as Loki's own run_command,
 * built by the same argument builder: read-only root, only the worktree (and the CLI's own
 * state) writable, credentials masked, private /tmp, own PID namespace, no capabilities, dies
 * with Loki, and the network by policy.
 */
export function wrapInBubblewrap(
  options: WrapInBubblewrapOptions,
): (invocation: WrappedInvocation) => WrappedInvocation {
  return (invocation) => {
    // The program is resolved outside and bound by its real path: it may live under /tmp (a clone
    // there, say), which the sandbox replaces with an empty tmpfs.
    const found = invocation.executable.includes('/')
      ? invocation.executable
      : findExecutable(invocation.executable, options.pathVariable);
    if (found === undefined) {
      throw new LokiError(`${invocation.executable} is not on PATH; install it or set its path`, {
        code: 'SANDBOX_EXECUTABLE_NOT_FOUND',
        category: 'user',
      });
    }
    const executable = realpathSync(found);
    const hiddenPaths = findHiddenPaths(
      options.homeDirectory,
      options.hiddenHomePaths ?? DEFAULT_HIDDEN_HOME_PATHS,
      [options.worktree, ...options.writablePaths],
    );
    return {
      executable: options.bubblewrapPath,
      arguments: buildSandboxArguments(
        {
          worktree: options.worktree,
          cwd: options.worktree,
          pathVariable: options.pathVariable,
          writablePaths: options.writablePaths,
          readOnlyPaths: [executable],
          hiddenPaths,
          network: options.network ?? { mode: 'full' },
          reportsInit: false,
        },
        { argv: [executable, ...invocation.arguments] },
      ),
    };
  };
}
