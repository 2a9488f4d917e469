import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { listRunProcesses, PROCESS_TAG_VARIABLE } from './list-run-processes.ts';
import { terminateRunProcesses } from './terminate-run-processes.ts';

export interface ProcessStopTiming {
  /** Between SIGTERM and SIGKILL. */
  graceMilliseconds: number;
  /** How long processes may take to disappear after SIGKILL before they are reported. */
  killDeadlineMilliseconds: number;
  /** After the process ends, how long to wait for its output pipes to close before giving up on them. */
  outputDrainMilliseconds: number;
}

export const DEFAULT_PROCESS_STOP_TIMING: ProcessStopTiming = {
  graceMilliseconds: 3_000,
  killDeadlineMilliseconds: 5_000,
  outputDrainMilliseconds: 2_000,
};

export interface RunLineProcessOptions {
  executable: string;
  arguments: readonly string[];
  cwd: string;
  /** The complete environment of the child: nothing is inherited from this process. */
  env: Readonly<Record<string, string>>;
  /** Called with every stdout line, in order. A throw stops the process and is rethrown. */
  onLine: (line: string) => void;
  /** Aborting stops the process and everything it started. */
  signal: AbortSignal;
  timing?: ProcessStopTiming;
}

export interface LineProcessExit {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  /** True when the abort signal stopped the process. */
  wasStopped: boolean;
  /** Set when the executable could not be started at all (ENOENT, EACCES). */
  spawnError: Error | null;
  /** The end of stderr, for error messages. */
  stderrTail: string;
  /** Processes still alive after the kill deadline; normally empty. */
  survivorPids: number[];
}

const STDERR_TAIL_CHARACTERS = 8_000;

/**
 * Runs an agent CLI in its own process group with stdin closed, hands every stdout line to
 * `onLine`, and makes sure that when it returns nothing the CLI started is still running: on abort
 * everything is stopped, and after a normal exit whatever the CLI left behind (background jobs of
 * its tools) is stopped too.
 */
export async function runLineProcess(options: RunLineProcessOptions): Promise<LineProcessExit> {
  const timing = options.timing ?? DEFAULT_PROCESS_STOP_TIMING;
  if (options.signal.aborted) {
    return {
      exitCode: null,
      exitSignal: null,
      wasStopped: true,
      spawnError: null,
      stderrTail: '',
      survivorPids: [],
    };
  }
  const tag = randomUUID();
  const child = spawn(options.executable, options.arguments, {
    cwd: options.cwd,
    env: { ...options.env, [PROCESS_TAG_VARIABLE]: tag },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARACTERS);
  });

  const cleanup: { termination: ReturnType<typeof terminateRunProcesses> | null; wasStopped: boolean } = {
    termination: null,
    wasStopped: false,
  };
  const stop = (): void => {
    if (cleanup.termination !== null || child.pid === undefined) return;
    cleanup.termination = terminateRunProcesses({
      processGroupId: child.pid,
      tag,
      graceMilliseconds: timing.graceMilliseconds,
      killDeadlineMilliseconds: timing.killDeadlineMilliseconds,
    });
  };
  const onAbort = (): void => {
    cleanup.wasStopped = true;
    stop();
  };

  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const linesClosed = once(lines, 'close');
  const lineFailure: { error: unknown } = { error: undefined };
  lines.on('line', (line) => {
    if (lineFailure.error !== undefined) return;
    try {
      options.onLine(line);
    } catch (error) {
      // A bug in the line handler: stop the CLI rather than let it run on unobserved.
      lineFailure.error = error;
      stop();
    }
  });

  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const ending = await new Promise<
      { spawnError: Error } | { code: number | null; signal: NodeJS.Signals | null }
    >((resolve) => {
      child.once('error', (spawnError) => resolve({ spawnError }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    options.signal.removeEventListener('abort', onAbort);
    if (
      cleanup.termination === null &&
      child.pid !== undefined &&
      (await listRunProcesses(child.pid, tag)).length > 0
    ) {
      // Background jobs the CLI's tools left behind die with it: an agent never outlives its run.
      stop();
    }
    const survivors = cleanup.termination === null ? [] : await cleanup.termination;
    await waitForOutputToClose(linesClosed, timing.outputDrainMilliseconds, () => {
      child.stdout.destroy();
      child.stderr.destroy();
    });
    if (lineFailure.error !== undefined) throw lineFailure.error;
    return {
      exitCode: 'code' in ending ? ending.code : null,
      exitSignal: 'signal' in ending ? ending.signal : null,
      wasStopped: cleanup.wasStopped,
      spawnError: 'spawnError' in ending ? ending.spawnError : null,
      stderrTail,
      survivorPids: survivors.map((survivor) => survivor.pid),
    };
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}

async function waitForOutputToClose(
  closed: Promise<unknown>,
  drainMilliseconds: number,
  stopReading: () => void,
): Promise<void> {
  const cancelDeadline = new AbortController();
  const deadline = delay(drainMilliseconds, 'deadline' as const, { signal: cancelDeadline.signal }).catch(
    (error: unknown) => {
      // Cancelling the deadline timer rejects it; that rejection is expected and carries nothing.
      if (cancelDeadline.signal.aborted) return 'cancelled' as const;
      throw error;
    },
  );
  const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
  cancelDeadline.abort();
  await deadline;
  // A process that escaped every signal can hold the pipe open; stop reading instead of hanging.
  if (outcome === 'deadline') stopReading();
}
