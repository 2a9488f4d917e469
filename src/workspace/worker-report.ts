import type { WorkerRecord, WorkerState } from '../store/index.ts';
// By its own file: the store's barrel also loads the PostgreSQL adapter and its driver.
import { workerStateOf } from '../store/worker-record.ts';

/**
 * One Loki process as `loki workers`, `loki status` and the dashboard show it. Everything a
 * process wrote about itself (its id, machine, agent types) is shown as text, never interpreted.
 */
export interface WorkerReport {
  id: string;
  machine: string;
  pid: number;
  role: 'run' | 'worker';
  runId: string | null;
  parallel: number;
  types: string[] | null;
  /** `lost`: no heartbeat for a few intervals and no stop recorded (killed, cut off, asleep). */
  state: WorkerState;
  startedAt: string;
  lastHeartbeatAt: string;
  /** Whole seconds from the last heartbeat to when the report was made. */
  heartbeatAgeSeconds: number;
  stoppedAt: string | null;
  /** The tasks it holds now. */
  tasks: string[];
}

export interface MachineReport {
  machine: string;
  workers: WorkerReport[];
}

/** The workers grouped by machine, machines and workers in the store's order (machine, start). */
export function groupWorkersByMachine(records: readonly WorkerRecord[], now: number): MachineReport[] {
  const machines = new Map<string, WorkerReport[]>();
  for (const record of records) {
    const list = machines.get(record.machine) ?? [];
    list.push(workerReportOf(record, now));
    machines.set(record.machine, list);
  }
  return [...machines].map(([machine, workers]) => ({ machine, workers }));
}

export function workerReportOf(record: WorkerRecord, now: number): WorkerReport {
  return {
    id: record.id,
    machine: record.machine,
    pid: record.pid,
    role: record.role,
    runId: record.runId,
    parallel: record.parallel,
    types: record.types,
    state: workerStateOf(record, now),
    startedAt: new Date(record.startedAt).toISOString(),
    lastHeartbeatAt: new Date(record.lastHeartbeatAt).toISOString(),
    heartbeatAgeSeconds: Math.max(0, Math.floor((now - record.lastHeartbeatAt) / 1000)),
    stoppedAt: record.stoppedAt === null ? null : new Date(record.stoppedAt).toISOString(),
    tasks: record.taskIds,
  };
}

/** A rough age for people: "45s", "12m", "3h 5m", "2d 4h". */
export function formatAgeSeconds(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** "worker, active, heartbeat 3s ago, 2 tasks": one line about one worker, after its id. */
export function describeWorker(worker: WorkerReport): string {
  const tasks = `${worker.tasks.length} task${worker.tasks.length === 1 ? '' : 's'}`;
  return `${worker.role}, ${worker.state}, heartbeat ${formatAgeSeconds(worker.heartbeatAgeSeconds)} ago, ${tasks}`;
}
