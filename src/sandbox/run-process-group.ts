import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errorCode } from '../errors/index.ts';
import { BoundedOutput } from './bounded-output.ts';
import type { ProcessIdentity } from './process-tree.ts';
import type { CommandRequest, CommandResult } from './command-runner.ts';
import { createRedactor } from './redactor.ts';
import { invalidRequestError, processSurvivedError, spawnFailedError } from './sandbox-errors.ts';
import { hasLiveGroupMembers, terminateProcessTree } from './terminate-process-tree.ts';

export interface ProcessTiming {
  /** Between SIGTERM and SIGKILL on timeout or abort. */
  killGraceMilliseconds: number;
  /** How long after SIGKILL processes may take to disappear before it is reported as an error. */
  killDeadlineMilliseconds: number;
  /**
   * After the command exits, how long to wait for its output pipes to close. A process that left
   * the group (setsid) can hold them open; after this we stop reading instead of hanging.
   */
  outputDrainMilliseconds: number;
}

export const DEFAULT_PROCESS_TIMING: ProcessTiming = {
  killGraceMilliseconds: 2_000,
  killDeadlineMilliseconds: 5_000,
  outputDrainMilliseconds: 2_000,
};

export interface ProcessGroupLaunch {
  executable: string;
  arguments: readonly string[];
  /** Where the launched executable starts (bubblewrap changes directory again inside). */
  launchDirectory: string;
  /**
   * Bubblewrap only: it is given `--info-fd 3` and reports there the pid of the sandbox's own init.
   * Bubblewrap exits as soon as the command does, while the kernel is still killing what else ran
   * in the sandbox's PID namespace; that init is gone only once they all are, so it is waited for.
   */
  reportsSandboxInit?: boolean;
  /**
   * The process gets fd LIFELINE_DESCRIPTOR: one end of a pipe whose other end only this process
   * holds, so that it reads end-of-file once this process is gone, however it died (SIGKILL
   * included). Bubblewrap's sandbox watches it (see buildBubblewrapArguments).
   */
  holdsLifeline?: boolean;
}

/** The descriptor a launch with `holdsLifeline` gets its end of the lifeline on. */
export const LIFELINE_DESCRIPTOR = 4;

/**
 * Spawns one executable in its own process group, captures bounded output, and makes sure that
 * when this settles nothing it started is still running. Shared by every CommandRunner.
 */
export async function runProcessGroup(
  launch: ProcessGroupLaunch,
  request: CommandRequest,
  timing: ProcessTiming,
): Promise<CommandResult> {
  validateRequest(request);
  await assertDirectory(request.cwd);
  request.signal?.throwIfAborted();
  const redactor = request.redactor ?? createRedactor({ env: request.env });
  const startedAt = performance.now();
  const child = spawn(launch.executable, launch.arguments, {
    cwd: launch.launchDirectory,
    env: request.env,
    detached: true,
    // fd 3: bubblewrap's --info-fd; /dev/null for anything else. fd 4: the lifeline, if asked for.
    stdio: [
      'ignore',
      'pipe',
      'pipe',
      launch.reportsSandboxInit === true ? 'pipe' : 'ignore',
      ...(launch.holdsLifeline === true ? (['pipe'] as const) : []),
    ],
  });
  // Nothing is ever written to it: it only has to stay open while the command may run (see finally).
  const lifeline = child.stdio[LIFELINE_DESCRIPTOR] ?? null;
  const { stdout: outputStream, stderr: errorStream } = child;
  // Both are pipes (see stdio above); the check only tells the compiler so.
  if (outputStream === null || errorStream === null) throw new Error('spawn gave no output pipes');
  let sandboxInfo = '';
  child.stdio[3]?.on('data', (chunk: Buffer) => (sandboxInfo += chunk.toString('utf8')));
  const stdout = new BoundedOutput(request.maxOutputBytes);
  const stderr = new BoundedOutput(request.maxOutputBytes);
  outputStream.on('data', (chunk: Buffer) => stdout.append(chunk));
  errorStream.on('data', (chunk: Buffer) => stderr.append(chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  let timedOut = false;
  // Started at most once, by the timeout, the abort signal or leftovers after exit.
  const cleanup: { termination: Promise<ProcessIdentity[]> | null } = { termination: null };
  const terminate = (): void => {
    const processGroupId = child.pid;
    if (cleanup.termination !== null || processGroupId === undefined) return;
    cleanup.termination = terminateProcessTree({ processGroupId, ...killTiming(timing) });
  };
  const timer = setTimeout(() => {
    timedOut = true;
    terminate();
  }, request.timeoutMilliseconds);
  request.signal?.addEventListener('abort', terminate, { once: true });

  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', (error) => reject(spawnFailedError(launch.executable, error)));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', terminate);
    // Background jobs the shell left behind die with it: an agent command never outlives its call.
    if (cleanup.termination === null && child.pid !== undefined && hasLiveGroupMembers(child.pid)) {
      terminate();
    }
    const survivors = cleanup.termination === null ? [] : await cleanup.termination;
    if (survivors.length > 0) throw processSurvivedError(survivors.map((identity) => identity.pid));
    const sandboxInit = sandboxInitPid(sandboxInfo);
    if (sandboxInit !== null && !(await hasEnded(sandboxInit, timing.killDeadlineMilliseconds))) {
      throw processSurvivedError([sandboxInit]);
    }
    await waitForOutputToDrain(
      closed,
      () => {
        outputStream.destroy();
        errorStream.destroy();
      },
      timing.outputDrainMilliseconds,
    );
    request.signal?.throwIfAborted();
    return {
      exitCode: exit.code,
      signal: exit.signal,
      stdout: redactor.redact(stdout.toString()),
      stderr: redactor.redact(stderr.toString()),
      timedOut,
      durationMilliseconds: Math.round(performance.now() - startedAt),
      truncated: stdout.isTruncated || stderr.isTruncated,
    };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', terminate);
    lifeline?.destroy();
  }
}

/** The pid bubblewrap's `--info-fd` reports (`"child-pid": N`), or null when it said nothing. */
function sandboxInitPid(info: string): number | null {
  const match = /"child-pid"\s*:\s*(\d+)/.exec(info);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** Polls until the process is gone or a zombie (nothing of it runs any more), up to the deadline. */
async function hasEnded(pid: number, deadlineMilliseconds: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMilliseconds;
  for (;;) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
      (stat) => /\) (\S)/.exec(stat)?.[1] ?? 'Z',
      (error: unknown) => {
        if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ESRCH') return 'gone';
        throw error;
      },
    );
    if (state === 'gone' || state === 'Z' || state === 'X') return true;
    if (performance.now() > deadline) return false;
    await delay(5);
  }
}

function killTiming(timing: ProcessTiming): { graceMilliseconds: number; killDeadlineMilliseconds: number } {
  return {
    graceMilliseconds: timing.killGraceMilliseconds,
    killDeadlineMilliseconds: timing.killDeadlineMilliseconds,
  };
}

async function waitForOutputToDrain(
  closed: Promise<void>,
  stopReading: () => void,
  drainMilliseconds: number,
): Promise<void> {
  const cancelDeadline = new AbortController();
  const deadline = delay(drainMilliseconds, 'deadline' as const, { signal: cancelDeadline.signal });
  const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
  cancelDeadline.abort();
  // The cancelled timer rejects; that rejection is expected and carries nothing to report.
  deadline.catch(() => undefined);
  if (outcome === 'deadline') stopReading();
}

async function assertDirectory(path: string): Promise<void> {
  const isDirectory = await stat(path).then(
    (stats) => stats.isDirectory(),
    (error: unknown) => {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    },
  );
  if (!isDirectory) throw invalidRequestError(`The working directory ${path} does not exist`, { cwd: path });
}

function validateRequest(request: CommandRequest): void {
  for (const [name, path] of [
    ['cwd', request.cwd],
    ['writableDirectory', request.writableDirectory],
  ] as const) {
    if (!isAbsolute(path))
      throw invalidRequestError(`${name} must be an absolute path, got ${path}`, { [name]: path });
  }
  if (!(request.timeoutMilliseconds > 0)) {
    throw invalidRequestError('timeoutMilliseconds must be positive', {
      timeoutMilliseconds: request.timeoutMilliseconds,
    });
  }
  if (!(request.maxOutputBytes >= 2)) {
    throw invalidRequestError('maxOutputBytes must be at least 2', {
      maxOutputBytes: request.maxOutputBytes,
    });
  }
}
