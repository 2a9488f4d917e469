import { hideArguments, type HiddenPath } from './hidden-home-paths.ts';
import { networkSandboxParts, type SandboxNetworkAccess, shellQuote } from './sandbox-network.ts';
import { sandboxVisiblePaths } from './sandbox-visible-paths.ts';

export interface SandboxLayout {
  /** Read-write, and where the program starts unless `cwd` says otherwise. */
  worktree: string;
  cwd: string;
  /** The program's PATH: tool folders under /tmp are bound back in. */
  pathVariable: string | undefined;
  /** Other places the program must write (an agent CLI's own state); bound only if they exist. */
  writablePaths?: readonly string[];
  /** Files bound read-only at their own path (a program living under /tmp). */
  readOnlyPaths?: readonly string[];
  hiddenPaths: readonly HiddenPath[];
  network: SandboxNetworkAccess;
  /** `--info-fd 3`: bubblewrap reports the sandbox's init pid on fd 3 (the runner waits for it). */
  reportsInit: boolean;
  /** Shell lines run inside before the program (the runner's lifeline watcher). */
  prelude?: readonly string[];
}

/** What the sandbox runs: a shell command line (`/bin/sh -c`), or a program and its arguments. */
export type SandboxProgram = { shellCommand: string } | { argv: readonly string[] };

/**
 * THE bubblewrap argument list: `run_command` (BubblewrapRunner) and whole agent CLIs
 * (wrapInBubblewrap) both come through here, so they cannot drift apart. Read-only root,
 * private /dev, /proc, /tmp and /run, the worktree read-write, credentials masked, own PID, IPC
 * and UTS namespaces, the network by policy, dies with Loki, and no capabilities: Loki often
 * runs as root, and root with capabilities inside could `mount -o remount,rw /` and write to
 * the host.
 *
 * The preludes run in `/bin/sh` first, which then execs the program, so that its exit status and
 * signals are the sandbox's.
 */
export function buildSandboxArguments(layout: SandboxLayout, program: SandboxProgram): string[] {
  const visible = sandboxVisiblePaths(layout.worktree, layout.pathVariable);
  const network = networkSandboxParts(layout.network);
  const prelude = [...(layout.prelude ?? []), ...network.prelude];
  let command: string[];
  if ('shellCommand' in program) {
    const script = [...prelude, 'exec /bin/sh -c "$1"'].join('\n');
    command = ['/bin/sh', '-c', script, 'sh', program.shellCommand];
  } else {
    command =
      prelude.length === 0
        ? ['--', ...program.argv]
        : ['--', '/bin/sh', '-c', [...prelude, 'exec "$@"'].join('\n'), 'sh', ...program.argv];
  }
  // prettier-ignore
  return [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
    // Sockets of host daemons (docker, dbus) live under /run; a read-only mount does not stop connect().
    '--tmpfs', '/run',
    // After the tmpfs mounts: tool folders and the git directory that live under /tmp.
    ...visible.beforeWorktree,
    // After the tmpfs mounts, so that it wins when the worktree lives under /tmp.
    '--bind', layout.worktree, layout.worktree,
    // The worktree's gitfile stays Loki's: read-only over the read-write worktree.
    ...visible.afterWorktree,
    ...(layout.writablePaths ?? []).flatMap((path) => ['--bind-try', path, path]),
    ...(layout.readOnlyPaths ?? []).flatMap((path) => ['--ro-bind', path, path]),
    // After the worktree and the writable paths, so that credentials stay masked wherever they are.
    ...hideArguments(layout.hiddenPaths),
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    ...network.bubblewrapArguments,
    '--die-with-parent',
    '--new-session',
    ...(layout.reportsInit ? ['--info-fd', '3'] : []),
    '--cap-drop', 'ALL',
    '--chdir', layout.cwd,
    ...command,
  ];
}

export { shellQuote };
