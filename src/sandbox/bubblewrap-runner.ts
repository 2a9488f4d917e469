import type { CommandRequest, CommandResult, CommandRunner } from './command-runner.ts';
import { buildSandboxArguments } from './build-sandbox-arguments.ts';
import { DEFAULT_HIDDEN_HOME_PATHS, findHiddenPaths, type HiddenPath } from './hidden-home-paths.ts';
import {
  DEFAULT_PROCESS_TIMING,
  LIFELINE_DESCRIPTOR,
  type ProcessTiming,
  runProcessGroup,
} from './run-process-group.ts';
import type { SandboxNetworkAccess } from './sandbox-network.ts';

export { DEFAULT_HIDDEN_HOME_PATHS, type HiddenPath };

export interface BubblewrapRunnerOptions {
  /** Absolute path of `bwrap`: the command's own PATH is not used to find it. */
  bubblewrapPath: string;
  /** Whose credential files to mask (see DEFAULT_HIDDEN_HOME_PATHS); undefined masks nothing. */
  homeDirectory?: string;
  hiddenHomePaths?: readonly string[];
  /**
   * What a request with `allowNetwork: true` gets (see SandboxNetwork); a request with
   * `allowNetwork: false` never has network. Default: the host's network.
   */
  network?: SandboxNetworkAccess;
  timing?: ProcessTiming;
}

/**
 * Runs commands in a bubblewrap sandbox: the root filesystem read-only, the worktree read-write,
 * a private /tmp and /run, its own PID, IPC and UTS namespaces, the network by policy, no
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

  /** What `allowNetwork: true` gets from this runner. */
  get network(): SandboxNetworkAccess {
    return this.#options.network ?? { mode: 'full' };
  }

  run(request: CommandRequest): Promise<CommandResult> {
    const hiddenPaths = findHiddenPaths(
      this.#options.homeDirectory,
      this.#options.hiddenHomePaths ?? DEFAULT_HIDDEN_HOME_PATHS,
      [request.writableDirectory],
    );
    return runProcessGroup(
      {
        executable: this.#options.bubblewrapPath,
        arguments: buildBubblewrapArguments(request, hiddenPaths, this.network),
        launchDirectory: request.cwd,
        reportsSandboxInit: true,
        holdsLifeline: true,
      },
      request,
      this.#timing,
    );
  }
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
 * lifeline (nor does the network forwarder started after it). When the command ends normally,
 * bubblewrap exits and the sandbox goes with the watcher.
 *
 * `kill -9 -1` means "every process of this PID namespace but its init", and MUST only run inside
 * the sandbox's own PID namespace (--unshare-pid, always set by buildSandboxArguments): outside
 * one it would mean every process of the user.
 */
const WATCH_LIFELINE = [
  `( ( while read -r _; do :; done; kill -9 -1 ) <&${LIFELINE_DESCRIPTOR} >/dev/null 2>&1 & )`,
  `exec ${LIFELINE_DESCRIPTOR}<&-`,
];

/** The bwrap arguments for one command: `allowNetwork: false` is always `none`, else `network`. */
export function buildBubblewrapArguments(
  request: CommandRequest,
  hiddenPaths: readonly HiddenPath[],
  network: SandboxNetworkAccess = { mode: 'full' },
): string[] {
  return buildSandboxArguments(
    {
      worktree: request.writableDirectory,
      cwd: request.cwd,
      pathVariable: request.env.PATH,
      hiddenPaths,
      network: request.allowNetwork ? network : { mode: 'none' },
      reportsInit: true,
      prelude: WATCH_LIFELINE,
    },
    { shellCommand: request.command },
  );
}
