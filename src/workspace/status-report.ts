import type { StoreSummary, TaskCounts, WorkerRecord } from '../store/index.ts';
import {
  describeWorker,
  groupWorkersByMachine,
  type MachineReport,
  type WorkerReport,
} from './worker-report.ts';

/**
 * What `loki status --json` prints and STATUS.txt shows. Both are built from one StatusReport so
 * that they cannot disagree.
 */
export interface StatusReport {
  workspace: string;
  /**
   * `status` is the stored run status, except `interrupted`: the store says running but the
   * process that ran it is gone (a crash, kill -9, a forced stop); and, while it runs, `paused`
   * (no new task starts until `loki continue`) and `stopping` (a stop was requested).
   */
  run: { id: string; status: string; startedAt: string; endedAt: string | null } | null;
  /** What to do next, when the workspace needs something from the user; null otherwise. */
  hint: string | null;
  phase: string;
  agents: { active: number; workers: string[] };
  /** The Loki processes working on the store now (running or lost; not stopped), by machine. */
  machines: MachineReport[];
  queue: {
    pending: number;
    inProgress: number;
    completed: number;
    failed: number;
    deadLetter: number;
    cancelled: number;
    total: number;
  };
  /** Breakers that are open or half-open; closed ones are not listed. */
  breakers: Array<{ name: string; state: string; consecutiveFailures: number; openedAt: string | null }>;
  /** Time of the last recorded change (ISO 8601), or null for a workspace with no history. */
  lastUpdate: string | null;
  lastEventSequence: number;
}

export function queueCounts(counts: TaskCounts): StatusReport['queue'] {
  return {
    pending: counts.pending,
    inProgress: counts.in_progress,
    completed: counts.completed,
    failed: counts.failed,
    deadLetter: counts.dead_letter,
    cancelled: counts.cancelled,
    total: Object.values(counts).reduce((sum, count) => sum + count, 0),
  };
}

export interface StatusReportOptions {
  /**
   * Whether the process running `runId` is alive (it holds the workspace's run lock). Without it
   * the stored status is shown as it is.
   */
  isRunAlive?: (runId: string) => boolean;
  /**
   * The worker registry (Store.listWorkers), the time to judge heartbeats at, and this machine's
   * name: this machine's process of an interrupted run is lost for sure, whatever its last
   * heartbeat says. No workers are shown without it.
   */
  workers?: { records: readonly WorkerRecord[]; now: number; localMachine?: string };
}

export const INTERRUPTED_RUN_HINT =
  "the run's process is gone (a crash, kill -9 or a forced stop); loki resume continues it";
export const PAUSED_RUN_HINT =
  'paused: no new task starts, agents at work finish theirs; loki continue lets it go on';

export function buildStatusReport(
  workspaceRoot: string,
  summary: StoreSummary,
  options: StatusReportOptions = {},
): StatusReport {
  const run = summary.latestRun;
  const isInterrupted =
    run !== null &&
    run.status === 'running' &&
    options.isRunAlive !== undefined &&
    !options.isRunAlive(run.id);
  const isSteered = run !== null && run.status === 'running' && !isInterrupted;
  const control = isSteered ? run.control : 'none';
  // The workers of a dead run still hold their leases in the store until resume takes them back,
  // but they are not agents at work.
  const workers = isInterrupted
    ? summary.activeWorkers.filter((worker) => !worker.startsWith(`run:${run.id}:`))
    : summary.activeWorkers;
  return {
    workspace: workspaceRoot,
    run:
      run === null
        ? null
        : {
            id: run.id,
            status: isInterrupted
              ? 'interrupted'
              : control === 'pause'
                ? 'paused'
                : control === 'stop'
                  ? 'stopping'
                  : run.status,
            startedAt: new Date(run.startedAt).toISOString(),
            endedAt: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
          },
    hint: isInterrupted ? INTERRUPTED_RUN_HINT : control === 'pause' ? PAUSED_RUN_HINT : null,
    phase: run === null ? 'idle' : run.phase,
    agents: { active: workers.length, workers },
    machines: currentMachines(options.workers, isInterrupted ? run.id : null),
    queue: queueCounts(summary.counts),
    breakers: summary.trippedBreakers.map((breaker) => ({
      name: breaker.name,
      state: breaker.state.replace('_', '-'),
      consecutiveFailures: breaker.consecutiveFailures,
      openedAt: breaker.openedAt === null ? null : new Date(breaker.openedAt).toISOString(),
    })),
    lastUpdate: summary.lastEventAt === null ? null : new Date(summary.lastEventAt).toISOString(),
    lastEventSequence: summary.lastEventSequence,
  };
}

function currentMachines(
  workers: StatusReportOptions['workers'],
  interruptedRunId: string | null,
): MachineReport[] {
  if (workers === undefined) return [];
  const isDeadRunProcess = (worker: WorkerReport) =>
    worker.role === 'run' &&
    worker.runId === interruptedRunId &&
    worker.machine === workers.localMachine &&
    worker.state === 'active';
  return groupWorkersByMachine(workers.records, workers.now)
    .map((machine) => ({
      ...machine,
      workers: machine.workers
        .filter((worker) => worker.state !== 'stopped')
        .map((worker) => (isDeadRunProcess(worker) ? { ...worker, state: 'lost' as const } : worker)),
    }))
    .filter((machine) => machine.workers.length > 0);
}

/** One line per worker, under its machine's name; nothing when no process is registered. */
function machineLines(machines: readonly MachineReport[]): string[] {
  return machines.flatMap((machine, index) =>
    machine.workers.map(
      (worker, position) =>
        `${index === 0 && position === 0 ? 'Machines:    ' : '             '} ${position === 0 ? machine.machine : ' '.repeat(machine.machine.length)}  ${worker.id} (${describeWorker(worker)})`,
    ),
  );
}

export function formatStatusText(report: StatusReport): string {
  const runLine = report.run === null ? 'none yet' : `${report.run.id} (${report.run.status})`;
  const hint = report.hint === null ? [] : [`Next:         ${report.hint}`];
  const workers = report.agents.workers.length === 0 ? '' : ` (${report.agents.workers.join(', ')})`;
  const lines = [
    'Loki Mode status',
    '',
    `Workspace:    ${report.workspace}`,
    `Run:          ${runLine}`,
    ...hint,
    `Phase:        ${report.phase}`,
    `Agents:       ${report.agents.active} active${workers}`,
    ...machineLines(report.machines),
    '',
    `Pending:      ${report.queue.pending}`,
    `In Progress:  ${report.queue.inProgress}`,
    `Completed:    ${report.queue.completed}`,
    `Failed:       ${report.queue.failed}`,
    `Dead letter:  ${report.queue.deadLetter}`,
    `Cancelled:    ${report.queue.cancelled}`,
    `Total:        ${report.queue.total}`,
    '',
    ...(report.breakers.length === 0
      ? ['Breakers:     all closed']
      : report.breakers.map(
          (breaker, index) =>
            `${index === 0 ? 'Breakers:    ' : '             '} ${breaker.name} ${breaker.state} (${breaker.consecutiveFailures} failures, since ${breaker.openedAt ?? '?'})`,
        )),
    `Last update:  ${report.lastUpdate ?? 'never'}`,
  ];
  return `${lines.join('\n')}\n`;
}
