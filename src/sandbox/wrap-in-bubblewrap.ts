import { realpathSync } from 'node:fs';
import { LokiError } from '../errors/index.ts';
import { findExecutable } from './find-executable.ts';
import { sandboxVisiblePaths } from './sandbox-visible-paths.ts';

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
}

/**
 * Runs a whole agent CLI (Claude Code) inside bubblewrap, so that the commands ITS tools run are
 * confined like Loki's own run_command: read-only root, only the worktree (and the CLI's own
 * state) writable, private /tmp, own PID namespace, no capabilities, dies with Loki. The network
 * is shared: the CLI must reach its model API.
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
    const visible = sandboxVisiblePaths(options.worktree, options.pathVariable);
    return {
      executable: options.bubblewrapPath,
      // prettier-ignore
      arguments: [
        '--ro-bind', '/', '/',
        '--dev', '/dev',
        '--proc', '/proc',
        '--tmpfs', '/tmp',
        '--tmpfs', '/run',
        '--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve',
        // After the tmpfs mounts, so that they win when these live under /tmp.
        ...visible.beforeWorktree,
        '--bind', options.worktree, options.worktree,
        ...visible.afterWorktree,
        ...options.writablePaths.flatMap((path) => ['--bind-try', path, path]),
        '--ro-bind', executable, executable,
        '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
        '--die-with-parent',
        '--new-session',
        '--cap-drop', 'ALL',
        '--chdir', options.worktree,
        '--', executable, ...invocation.arguments,
      ],
    };
  };
}
