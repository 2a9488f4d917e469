import { statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { CommandRequest, CommandResult, CommandRunner } from './command-runner.ts';
import { errorCode } from '../errors/index.ts';
import {
  DEFAULT_PROCESS_TIMING,
  LIFELINE_DESCRIPTOR,
  type ProcessTiming,
  runProcessGroup,
} from './run-process-group.ts';
import { sandboxVisiblePaths } from './sandbox-visible-paths.ts';

/**
 * Places under the home directory where credentials usually live. The root filesystem is
 * readable inside the sandbox (compilers, node_modules caches), so these are masked: a command
 * with network access must not be able to read and send them.
 */
export const DEFAULT_HIDDEN_HOME_PATHS: readonly string[] = [
  '.ssh',
  '.aws',
  '.azure',
  '.gnupg',
  '.docker',
  '.kube',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
  '.config/gh',
  '.config/gcloud',
  '.claude',
  '.claude.json',
  '.codex',
];

export interface BubblewrapRunnerOptions {
  /** Absolute path of `bwrap`: the command's own PATH is not used to find it. */
  bubblewrapPath: string;
  /** Whose credential files to mask (see DEFAULT_HIDDEN_HOME_PATHS); undefined masks nothing. */
  homeDirectory?: string;
  hiddenHomePaths?: readonly string[];
  timing?: ProcessTiming;
}

/**
 * Runs commands in a bubblewrap sandbox: the root filesystem read-only, the worktree read-write,
 * a private /tmp and /run, its own PID, IPC and UTS namespaces, no network unless allowed, no
 * capabilities (root inside could otherwise remount / read-write), and it dies with Loki.
 */
export class BubblewrapRunner implements CommandRunner {
  readonly kind = 'bubblewrap';
  readonly #options: BubblewrapRunnerOptions;
  readonly #timing: ProcessTiming;

  constructor(options: BubblewrapRunnerOptions) {
    this.#options = options;
    this.#timing = options.timing ?? DEFAULT_PROCESS_TIMING;
  }

  run(request: CommandRequest): Promise<CommandResult> {
    return runProcessGroup(
      {
        executable: this.#options.bubblewrapPath,
        arguments: buildBubblewrapArguments(request, this.hiddenPaths(request.writableDirectory)),
        launchDirectory: request.cwd,
        reportsSandboxInit: true,
        holdsLifeline: true,
      },
      request,
      this.#timing,
    );
  }

  /** Existing credential paths, except any that contain the worktree (masking it would hide it). */
  private hiddenPaths(writableDirectory: string): HiddenPath[] {
    const { homeDirectory } = this.#options;
    if (homeDirectory === undefined) return [];
    const hidden: HiddenPath[] = [];
    for (const relativePath of this.#options.hiddenHomePaths ?? DEFAULT_HIDDEN_HOME_PATHS) {
      const path = join(homeDirectory, relativePath);
      if (isSameOrInside(writableDirectory, path)) continue;
      const kind = pathKind(path);
      if (kind !== null) hidden.push({ path, kind });
    }
    return hidden;
  }
}

export interface HiddenPath {
  path: string;
  kind: 'directory' | 'file';
}

/**
 * What runs in the sandbox before the command: a watcher of the lifeline (run-process-group.ts),
 * then the command itself, exec'd so that its exit status and signals are the sandbox's as before.
 *
 * Why: --die-with-parent cannot cover every moment. Bubblewrap arms it for the sandbox's init only
 * while setting the sandbox up; if Loki is killed just before (bubblewrap, armed earlier, dies with
 * it), the init arms it too late, for a parent already gone, and the command runs to its end with
 * nobody watching: a dev server or a hung test would run for ever. The watcher closes that gap: the
 * lifeline's other end is Loki's alone, so its end-of-file means Loki is gone, and then everything
 * in the sandbox is killed. It runs detached from the command (the inner subshell is re-parented to
 * the sandbox's init), so the command never waits for it, and the command does not get the
 * lifeline. When the command ends normally, bubblewrap exits and the sandbox goes with the watcher.
 *
 * `kill -9 -1` means "every process of this PID namespace but its init", and MUST only run inside
 * the sandbox's own PID namespace (--unshare-pid below): outside one it would mean every process
 * of the user.
 */
const WATCH_LIFELINE_THEN_RUN_COMMAND = [
  `( ( while read -r _; do :; done; kill -9 -1 ) <&${LIFELINE_DESCRIPTOR} >/dev/null 2>&1 & )`,
  `exec ${LIFELINE_DESCRIPTOR}<&-`,
  'exec /bin/sh -c "$1"',
].join('; ');

export function buildBubblewrapArguments(
  request: CommandRequest,
  hiddenPaths: readonly HiddenPath[],
): string[] {
  const worktree = request.writableDirectory;
  const networkArguments = request.allowNetwork
    ? // /run is masked below; DNS on systemd-resolved hosts lives there, so bring it back.
      ['--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve']
    : ['--unshare-net'];
  const visible = sandboxVisiblePaths(worktree, request.env.PATH);
  const hideArguments = hiddenPaths.flatMap((hidden) =>
    hidden.kind === 'directory' ? ['--tmpfs', hidden.path] : ['--ro-bind', '/dev/null', hidden.path],
  );
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
    '--bind', worktree, worktree,
    // The worktree's gitfile stays Loki's: read-only over the read-write worktree.
    ...visible.afterWorktree,
    // After the worktree, so that credentials stay masked wherever they are.
    ...hideArguments,
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    ...networkArguments,
    '--die-with-parent',
    '--new-session',
    // The sandbox's init pid, so that the runner waits until everything in the sandbox is gone.
    '--info-fd', '3',
    '--cap-drop', 'ALL',
    '--chdir', request.cwd,
    '/bin/sh', '-c', WATCH_LIFELINE_THEN_RUN_COMMAND, 'sh', request.command,
  ];
}

function pathKind(path: string): HiddenPath['kind'] | null {
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) return 'directory';
    return stats.isFile() ? 'file' : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return null;
    throw error;
  }
}

function isSameOrInside(path: string, directory: string): boolean {
  const relation = relative(directory, path);
  return relation === '' || (relation !== '..' && !relation.startsWith(`..${sep}`) && !isAbsolute(relation));
}
