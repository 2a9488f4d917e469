import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { DEFAULT_HIDDEN_HOME_PATHS, terminateProcessTree, wrapInBubblewrap } from '../../sandbox/index.ts';
import type { AppState, StartAppRequest } from './supervisor-protocol.ts';

export interface SupervisedAppOptions extends StartAppRequest {
  port: number;
  logFile: string;
  /** PATH for the app (to find node, npm); nothing else of the supervisor's environment is passed. */
  pathVariable: string;
  /** Whose credential files the sandbox masks (the supervisor's HOME). */
  homeDirectory: string | undefined;
  /** Called with one line for the supervisor's log (crashes, restarts). */
  log: (line: string) => void;
}

const FIRST_RESTART_DELAY_MILLISECONDS = 250;
const MAX_RESTART_DELAY_MILLISECONDS = 30_000;
/** An app that ran this long before dying is restarted at once again: it was not crash-looping. */
const STABLE_RUN_MILLISECONDS = 30_000;

/**
 * How an app run without bubblewrap dies with its supervisor. Bubblewrap's --die-with-parent ends
 * a sandboxed app when the supervisor dies, SIGKILL included; a plain process would outlive it,
 * serving nobody on a port nobody stops. So the plain app runs under this shell, in the process
 * group it leads: the start command (a positional argument, never spliced into the script) in the
 * background, and a watcher blocked reading fd 3, a socket whose other end only the supervisor
 * holds. The read returns only at EOF, when the supervisor is gone, and the watcher then kills the
 * whole group: the app, whatever it started, and the shell. When the app exits by itself the shell
 * ends the watcher and exits with the app's status, so a crash is still seen and restarted.
 * A shell, not a Node wrapper: Node has no PR_SET_PDEATHSIG, and a second Node process per app
 * would cost tens of megabytes for one blocking read.
 */
const LIFELINE_SCRIPT = [
  '/bin/sh -c "$1" 3<&- &',
  'app=$!',
  '{ read -r _ <&3; kill -KILL 0; } &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$app"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/**
 * One release's server, kept running: started on its own port, restarted with exponential backoff
 * when it dies (a crash loop backs off up to 30 s), stopped as a whole process tree.
 */
export class SupervisedApp {
  readonly version: string;
  readonly port: number;
  private child: ChildProcess | null = null;
  private restarts = 0;
  private consecutiveCrashes = 0;
  private isStopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private state: AppState['state'] = 'starting';
  private readonly options: SupervisedAppOptions;

  constructor(options: SupervisedAppOptions) {
    this.options = options;
    this.version = options.version;
    this.port = options.port;
  }

  start(): void {
    const startedAt = Date.now();
    const invocation = this.invocation();
    // The log file is opened per start so a deleted log does not silence the app's next life.
    const logDescriptor = openSync(this.options.logFile, 'a');
    try {
      this.child = spawn(invocation.executable, invocation.arguments, {
        cwd: this.options.directory,
        env: {
          PATH: this.options.pathVariable,
          HOME: this.options.directory,
          PORT: String(this.port),
          NODE_ENV: 'production',
        },
        detached: true,
        // fd 3: the plain app's lifeline (see LIFELINE_SCRIPT); the supervisor never writes to it.
        stdio: ['ignore', logDescriptor, logDescriptor, ...(invocation.hasLifeline ? ['pipe' as const] : [])],
      });
    } finally {
      closeSync(logDescriptor);
    }
    this.state = 'running';
    const child = this.child;
    // Our end of the lifeline only closes; an error on it (the app's side reset) changes nothing
    // for the app, whose exit is what the supervisor watches.
    child.stdio[3]?.on('error', (error) => this.options.log(`${this.version}: lifeline: ${error.message}`));
    child.on('error', (error) => this.options.log(`${this.version}: could not start: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.isStopping) return;
      const ranFor = Date.now() - startedAt;
      this.consecutiveCrashes = ranFor >= STABLE_RUN_MILLISECONDS ? 1 : this.consecutiveCrashes + 1;
      const delay = Math.min(
        MAX_RESTART_DELAY_MILLISECONDS,
        FIRST_RESTART_DELAY_MILLISECONDS * 2 ** (this.consecutiveCrashes - 1),
      );
      this.options.log(
        `${this.version}: exited (${signal ?? `code ${String(code)}`}); restarting in ${String(delay)} ms`,
      );
      this.state = 'restarting';
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        this.restarts += 1;
        this.start();
      }, delay);
    });
  }

  describe(): AppState {
    return {
      version: this.version,
      pid: this.child?.pid ?? null,
      port: this.port,
      restarts: this.restarts,
      state: this.state,
    };
  }

  /** Ends the app and everything it started; no restart follows. */
  async stop(): Promise<void> {
    this.isStopping = true;
    this.state = 'stopped';
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child?.pid === undefined) return;
    const exited = child.exitCode === null && child.signalCode === null ? once(child, 'exit') : null;
    await terminateProcessTree({
      processGroupId: child.pid,
      graceMilliseconds: 3_000,
      killDeadlineMilliseconds: 3_000,
    });
    await exited;
  }

  /**
   * The start command is model-written: where bubblewrap is usable it runs inside the same sandbox
   * as agent commands (read-only root, credentials masked, only its release directory writable),
   * with the host's network, since the proxy must reach its port. Elsewhere it runs plain, on its
   * lifeline to the supervisor.
   */
  private invocation(): { executable: string; arguments: string[]; hasLifeline: boolean } {
    if (this.options.bubblewrapPath === null) {
      return {
        executable: '/bin/sh',
        arguments: ['-c', LIFELINE_SCRIPT, 'loki-app', this.options.startCommand],
        hasLifeline: true,
      };
    }
    const plain = { executable: '/bin/sh', arguments: ['-c', this.options.startCommand] };
    const sandboxed = wrapInBubblewrap({
      bubblewrapPath: this.options.bubblewrapPath,
      worktree: this.options.directory,
      writablePaths: [],
      pathVariable: this.options.pathVariable,
      network: { mode: 'full' },
      ...(this.options.homeDirectory === undefined
        ? {}
        : { homeDirectory: this.options.homeDirectory, hiddenHomePaths: DEFAULT_HIDDEN_HOME_PATHS }),
    })(plain);
    return { ...sandboxed, hasLifeline: false };
  }
}
