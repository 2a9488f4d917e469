import { describe, expect, it } from 'vitest';
import {
  emptyTaskCounts,
  type Run,
  type RunControlState,
  type RunStatus,
  type StoreSummary,
  type WorkerRecord,
} from '../store/index.ts';
import {
  buildStatusReport,
  formatStatusText,
  INTERRUPTED_RUN_HINT,
  PAUSED_RUN_HINT,
} from './status-report.ts';

function summary(status: RunStatus, control: RunControlState = 'none'): StoreSummary {
  const run: Run = {
    id: 'run-1',
    status,
    phase: 'development',
    prdPath: null,
    startedAt: Date.UTC(2025, 5, 1),
    updatedAt: Date.UTC(2025, 5, 1),
    endedAt: null,
    settings: null,
    control,
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

  it('shows a live run that was asked to pause or stop as paused or stopping', () => {
    const paused = buildStatusReport('/w', summary('running', 'pause'), { isRunAlive: () => true });
    expect([paused.run?.status, paused.hint]).toEqual(['paused', PAUSED_RUN_HINT]);
    expect(formatStatusText(paused)).toContain('Run:          run-1 (paused)\n');
    const stopping = buildStatusReport('/w', summary('running', 'stop'), { isRunAlive: () => true });
    expect([stopping.run?.status, stopping.hint]).toEqual(['stopping', null]);
  });

  it('ignores a request left on a run that is not live: its process is gone, or it has ended', () => {
    const dead = buildStatusReport('/w', summary('running', 'pause'), { isRunAlive: () => false });
    expect([dead.run?.status, dead.hint]).toEqual(['interrupted', INTERRUPTED_RUN_HINT]);
    const ended = buildStatusReport('/w', summary('stopped', 'stop'), { isRunAlive: () => false });
    expect([ended.run?.status, ended.hint]).toEqual(['stopped', null]);
  });

  it('shows the workers that run or are lost by machine, with their heartbeat age, and not stopped ones', () => {
    const now = Date.UTC(2025, 5, 1, 12);
    const worker = (id: string, machine: string, overrides: Partial<WorkerRecord> = {}): WorkerRecord => ({
      id,
      machine,
      pid: 4242,
      role: 'worker',
      runId: null,
      parallel: 2,
      types: null,
      heartbeatMilliseconds: 10_000,
      startedAt: now - 600_000,
      lastHeartbeatAt: now - 4_000,
      stoppedAt: null,
      taskIds: [],
      ...overrides,
    });
    const report = buildStatusReport('/w', summary('running'), {
      isRunAlive: () => true,
      workers: {
        now,
        records: [
          worker('run:run-1:4242', 'host-a', { role: 'run', runId: 'run-1', taskIds: ['t1', 't2'] }),
          worker('worker:host-a:7', 'host-a', { stoppedAt: now - 1_000 }),
          worker('worker:host-b:9', 'host-b', { lastHeartbeatAt: now - 125_000, taskIds: ['t3'] }),
        ],
      },
    });
    expect(report.machines.map((machine) => [machine.machine, machine.workers.map((w) => w.state)])).toEqual([
      ['host-a', ['active']],
      ['host-b', ['lost']],
    ]);
    expect(report.machines[1]?.workers[0]).toMatchObject({
      id: 'worker:host-b:9',
      heartbeatAgeSeconds: 125,
      tasks: ['t3'],
      lastHeartbeatAt: new Date(now - 125_000).toISOString(),
    });
    const text = formatStatusText(report);
    expect(text).toContain(
      'Machines:     host-a  run:run-1:4242 (run, active, heartbeat 4s ago, 2 tasks)\n' +
        '              host-b  worker:host-b:9 (worker, lost, heartbeat 2m ago, 1 task)\n',
    );
    expect(formatStatusText(buildStatusReport('/w', summary('running')))).not.toContain('Machines:');
    // This machine's process of a run that is gone is lost at once, whatever its last heartbeat.
    const interrupted = buildStatusReport('/w', summary('running'), {
      isRunAlive: () => false,
      workers: {
        now,
        localMachine: 'host-a',
        records: [worker('run:run-1:4242', 'host-a', { role: 'run', runId: 'run-1' })],
      },
    });
    expect(interrupted.machines[0]?.workers[0]?.state).toBe('lost');
  });
});
