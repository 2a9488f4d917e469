import type { StoreSummary, TaskCounts } from '../store/index.ts';

/**
 * What `loki status --json` prints and STATUS.txt shows. Both are built from one StatusReport so
 * that they cannot disagree.
 */
export interface StatusReport {
  workspace: string;
  run: { id: string; status: string; startedAt: string; endedAt: string | null } | null;
  phase: string;
  agents: { active: number; workers: string[] };
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

export function buildStatusReport(workspaceRoot: string, summary: StoreSummary): StatusReport {
  const run = summary.latestRun;
  return {
    workspace: workspaceRoot,
    run:
      run === null
        ? null
        : {
            id: run.id,
            status: run.status,
            startedAt: new Date(run.startedAt).toISOString(),
            endedAt: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
          },
    phase: run === null ? 'idle' : run.phase,
    agents: { active: summary.activeWorkers.length, workers: summary.activeWorkers },
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

export function formatStatusText(report: StatusReport): string {
  const runLine = report.run === null ? 'none yet' : `${report.run.id} (${report.run.status})`;
  const workers = report.agents.workers.length === 0 ? '' : ` (${report.agents.workers.join(', ')})`;
  const lines = [
    'Loki Mode status',
    '',
    `Workspace:    ${report.workspace}`,
    `Run:          ${runLine}`,
    `Phase:        ${report.phase}`,
    `Agents:       ${report.agents.active} active${workers}`,
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
