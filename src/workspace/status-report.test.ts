import { describe, expect, it } from 'vitest';
import { emptyTaskCounts, type Run, type RunStatus, type StoreSummary } from '../store/index.ts';
import { buildStatusReport, formatStatusText, INTERRUPTED_RUN_HINT } from './status-report.ts';

function summary(status: RunStatus): StoreSummary {
  const run: Run = {
    id: 'run-1',
    status,
    phase: 'development',
    prdPath: null,
    startedAt: Date.UTC(2025, 5, 1),
    updatedAt: Date.UTC(2025, 5, 1),
    endedAt: null,
    settings: null,
    control: 'none',
  };
  return {
    trippedBreakers: [],
    counts: { ...emptyTaskCounts(), in_progress: 2 },
    latestRun: run,
    // One worker of the run's own process, one of another process (e.g. `loki task run`).
    activeWorkers: ['run:run-1:4242:w1', 'task:other:w1'],
    lastEventSequence: 7,
    lastEventAt: Date.UTC(2025, 5, 1),
  };
}

describe('buildStatusReport', () => {
  it('shows a running run whose process is gone as interrupted, without its dead workers', () => {
    const report = buildStatusReport('/w', summary('running'), { isRunAlive: () => false });
    expect(report.run?.status).toBe('interrupted');
    expect(report.hint).toBe(INTERRUPTED_RUN_HINT);
    expect(report.agents).toEqual({ active: 1, workers: ['task:other:w1'] });
    const text = formatStatusText(report);
    expect(text).toContain('Run:          run-1 (interrupted)\n');
    expect(text).toContain(`Next:         ${INTERRUPTED_RUN_HINT}\n`);
  });

  it('keeps the stored status while the process lives, for an ended run, and when nobody can tell', () => {
    const alive = buildStatusReport('/w', summary('running'), { isRunAlive: () => true });
    expect([alive.run?.status, alive.hint, alive.agents.active]).toEqual(['running', null, 2]);
    const ended = buildStatusReport('/w', summary('stopped'), { isRunAlive: () => false });
    expect([ended.run?.status, ended.hint]).toEqual(['stopped', null]);
    const unknown = buildStatusReport('/w', summary('running'));
    expect([unknown.run?.status, unknown.hint]).toEqual(['running', null]);
    expect(formatStatusText(unknown)).not.toContain('Next:');
  });
});
