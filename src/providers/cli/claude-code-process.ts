import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { SpawnedProcess, SpawnOptions } from '@anthropic-ai/claude-agent-sdk';
import type { ClaudeCodeProcessExit } from './classify-claude-code-failure.ts';
import type { ProcessInvocation } from './cli-runtime-options.ts';
import { listRunProcesses, PROCESS_TAG_VARIABLE } from './list-run-processes.ts';
import { DEFAULT_PROCESS_STOP_TIMING, type ProcessStopTiming } from './run-line-process.ts';
import { terminateRunProcesses } from './terminate-run-processes.ts';

const STDERR_TAIL_CHARACTERS = 8_000;

/**
 * The Claude Code process of one attempt, spawned for the Agent SDK (its `spawnClaudeCodeProcess`
 * hook) the way Loki runs every agent CLI: wrapped when asked (bubblewrap, so Claude Code's own
 * tools are confined like run_command), in its own process group, tagged so that the commands its
 * tools start in their own sessions can be found, and ended with everything it started.
 */
export class ClaudeCodeProcess {
  readonly #wrapInvocation: ((invocation: ProcessInvocation) => ProcessInvocation) | undefined;
  readonly #timing: ProcessStopTiming;
  readonly #tag = randomUUID();
  #child: ChildProcess | null = null;
  #exited: Promise<unknown> = Promise.resolve();
  #exit: ClaudeCodeProcessExit = { exitCode: null, exitSignal: null, spawnError: null, stderrTail: '' };

  constructor(options: {
    wrapInvocation?: ((invocation: ProcessInvocation) => ProcessInvocation) | undefined;
    timing?: ProcessStopTiming | undefined;
  }) {
    this.#wrapInvocation = options.wrapInvocation;
    this.#timing = options.timing ?? DEFAULT_PROCESS_STOP_TIMING;
  }

  /** How the process ended (so far): exit status, spawn failure and the end of its stderr. */
  get exit(): ClaudeCodeProcessExit {
    return this.#exit;
  }

  /** The SDK's spawn hook. The SDK's own abort signal is left alone: `finish` ends the whole group. */
  readonly spawn = (options: SpawnOptions): SpawnedProcess => {
    const invocation = this.#wrapInvocation?.({ executable: options.command, arguments: options.args }) ?? {
      executable: options.command,
      arguments: options.args,
    };
    const environment: Record<string, string> = { [PROCESS_TAG_VARIABLE]: this.#tag };
    for (const [name, value] of Object.entries(options.env)) {
      if (value !== undefined) environment[name] = value;
    }
    const child = spawn(invocation.executable, invocation.arguments, {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: environment,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { ...this.#exit, exitCode: code, exitSignal: signal };
        resolve();
      });
      child.once('error', (error) => {
        this.#exit = { ...this.#exit, spawnError: error };
        resolve();
      });
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#exit.stderrTail = (this.#exit.stderrTail + chunk).slice(-STDERR_TAIL_CHARACTERS);
    });
    return child as SpawnedProcess;
  };

  /**
   * Ends the attempt's processes: after a normal end Claude Code gets the grace period to exit by
   * itself; what it leaves behind (background jobs of its tools), or everything when `stopNow`,
   * is terminated. Returns the pids that survived SIGKILL (normally none).
   */
  async finish(stopNow: boolean): Promise<number[]> {
    const child = this.#child;
    if (child?.pid === undefined) return [];
    if (!stopNow && child.exitCode === null && child.signalCode === null) {
      await raceWithDeadline(this.#exited, this.#timing.graceMilliseconds);
    }
    if ((await listRunProcesses(child.pid, this.#tag)).length === 0) return [];
    const survivors = await terminateRunProcesses({
      processGroupId: child.pid,
      tag: this.#tag,
      graceMilliseconds: this.#timing.graceMilliseconds,
      killDeadlineMilliseconds: this.#timing.killDeadlineMilliseconds,
    });
    return survivors.map((survivor) => survivor.pid);
  }
}

async function raceWithDeadline(promise: Promise<unknown>, milliseconds: number): Promise<void> {
  const cancel = new AbortController();
  const deadline = delay(milliseconds, undefined, { signal: cancel.signal }).catch((error: unknown) => {
    // Cancelling the deadline timer rejects it; that rejection is expected and carries nothing.
    if (!cancel.signal.aborted) throw error;
  });
  await Promise.race([promise, deadline]);
  cancel.abort();
  await deadline;
}
