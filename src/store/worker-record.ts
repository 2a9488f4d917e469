/**
 * The worker registry: every Loki process that works on a store (`loki run`, `loki worker`) keeps
 * a row with its machine and a heartbeat, so that any machine can see who works where
 * (`loki workers`, `loki status`, the dashboard).
 *
 * Invariant: a process's id is the prefix of the worker ids it claims tasks with: a task claimed
 * by `<id>` or `<id>:<anything>` is held by that process (the scheduler claims as `<id>:w<n>`).
 */

export type WorkerRole = 'run' | 'worker';

/** What a process reports about itself with each heartbeat. */
export interface WorkerHeartbeat {
  /** One per process, e.g. `run:<run-id>:<machine>:<pid>`; its task claims are `<id>:<suffix>`. */
  id: string;
  /** The machine's host name. */
  machine: string;
  pid: number;
  /** `run`: the process of `loki run` (plans, coordinates, may work); `worker`: a `loki worker`. */
  role: WorkerRole;
  /** The run it works for; null for a worker that takes any run's tasks. */
  runId: string | null;
  /** How many agents it runs at once at most. */
  parallel: number;
  /** The agent types it claims; null for any. */
  types: readonly string[] | null;
  /** How often it heartbeats: who reads the registry judges it lost after a few missed beats. */
  heartbeatMilliseconds: number;
}

export interface WorkerRecord extends WorkerHeartbeat {
  types: string[] | null;
  startedAt: number;
  lastHeartbeatAt: number;
  /** When it said it stopped; null while it runs (or when it died without saying so). */
  stoppedAt: number | null;
  /** The tasks it holds now (in progress under one of its worker ids), in claim order. */
  taskIds: string[];
}

/** Missed heartbeats after which a process that has not said it stopped is taken for lost. */
export const LOST_AFTER_HEARTBEATS = 3;

export type WorkerState = 'active' | 'lost' | 'stopped';

/** `lost`: no heartbeat for LOST_AFTER_HEARTBEATS intervals, and no stop recorded (killed, cut off). */
export function workerStateOf(worker: WorkerRecord, now: number): WorkerState {
  if (worker.stoppedAt !== null) return 'stopped';
  const silence = now - worker.lastHeartbeatAt;
  return silence > LOST_AFTER_HEARTBEATS * worker.heartbeatMilliseconds ? 'lost' : 'active';
}

/**
 * Which worker holds each in-progress task: the one whose id is the task's `claimedBy` or its
 * longest prefix followed by `:`. Tasks claimed by a process that never registered belong to none.
 */
export function attributeTasks(
  workerIds: readonly string[],
  heldTasks: ReadonlyArray<{ id: string; claimedBy: string | null }>,
): Map<string, string[]> {
  const byWorker = new Map<string, string[]>(workerIds.map((id) => [id, []]));
  const longestFirst = [...workerIds].sort((left, right) => right.length - left.length);
  for (const task of heldTasks) {
    const holder = task.claimedBy;
    if (holder === null) continue;
    const owner = longestFirst.find((id) => holder === id || holder.startsWith(`${id}:`));
    if (owner !== undefined) byWorker.get(owner)?.push(task.id);
  }
  return byWorker;
}
