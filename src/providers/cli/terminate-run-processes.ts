import { setTimeout as delay } from 'node:timers/promises';
import { errorCode } from '../../errors/index.ts';
import { listRunProcesses, type RunProcess } from './list-run-processes.ts';

export interface TerminateRunProcessesOptions {
  /**
   * The pid of the process spawned with `detached: true`, which is also its process group id; null
   * when the CLI shares Loki's group (then only tagged processes are signalled, never the group).
   */
  processGroupId: number | null;
  /** The run's tag (see `listRunProcesses`). */
  tag: string;
  /** Between SIGTERM and SIGKILL: agent CLIs use it to stop their own tool processes cleanly. */
  graceMilliseconds: number;
  /** How long processes may take to disappear after SIGKILL. */
  killDeadlineMilliseconds: number;
}

const POLL_INTERVAL_MILLISECONDS = 25;

/**
 * Ends every process of one run: SIGTERM to the group and each tagged process, SIGKILL to whatever
 * is left after the grace period. Returns the processes still alive after the kill deadline
 * (normally none), so the caller can report them instead of leaving orphans unnoticed.
 */
export async function terminateRunProcesses(options: TerminateRunProcessesOptions): Promise<RunProcess[]> {
  const { processGroupId, tag } = options;
  signalRun(processGroupId, await listRunProcesses(processGroupId, tag), 'SIGTERM');
  let survivors = await waitForRunToEnd(options, options.graceMilliseconds);
  if (survivors.length === 0) return [];
  signalRun(processGroupId, survivors, 'SIGKILL');
  survivors = await waitForRunToEnd(options, options.killDeadlineMilliseconds);
  return survivors;
}

function signalRun(
  processGroupId: number | null,
  members: readonly RunProcess[],
  signal: NodeJS.Signals,
): void {
  if (processGroupId !== null) sendSignal(-processGroupId, signal);
  for (const member of members) sendSignal(member.pid, signal);
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // Already gone is exactly what we want.
    if (errorCode(error) !== 'ESRCH') throw error;
  }
}

async function waitForRunToEnd(
  options: TerminateRunProcessesOptions,
  timeoutMilliseconds: number,
): Promise<RunProcess[]> {
  const deadline = performance.now() + timeoutMilliseconds;
  for (;;) {
    const survivors = await listRunProcesses(options.processGroupId, options.tag);
    if (survivors.length === 0 || performance.now() >= deadline) return survivors;
    await delay(POLL_INTERVAL_MILLISECONDS);
  }
}
