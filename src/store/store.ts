import type {
  EventType,
  LokiEvent,
  NewEvent,
  RunControlRequester,
  RunOutcomeWord,
  RunSettingsData,
  RunSettingsRecordedData,
} from '../events/index.ts';
import type { BudgetLedger } from '../budget/index.ts';
import type { BreakerSnapshot, BreakerTransition } from './breaker-record.ts';
import type { EventsAppendedListener } from './events-appended-notifier.ts';
import type { NewTask, Task, TaskCounts, TaskStatus } from './task-record.ts';
import type { WorkerHeartbeat, WorkerRecord } from './worker-record.ts';

/**
 * The single source of truth (DESIGN.md §3). Every method that changes state is ONE transaction
 * that writes the rows AND appends the matching event(s); either both are durable or neither is.
 *
 * The interface is asynchronous even though node:sqlite is synchronous, because the PostgreSQL
 * adapter is not. Every adapter must pass `describeStoreConformance` (store-conformance.ts).
 */
export interface Store extends AsyncDisposable {
  readonly kind: 'sqlite' | 'postgres';
  /** Human-readable location (file path or redacted URL). */
  readonly location: string;

  /**
   * Inserts tasks atomically with a `task.enqueued` event each. Rejects (inserting nothing) on a
   * duplicate id, a duplicate idempotency key, or a dependency that is neither stored nor in the batch.
   * Cycle detection is the queue's job: a cycle can only form inside one batch (`deferTask` checks
   * its own case, the one way a stored task gains dependencies).
   */
  insertTasks(tasks: readonly NewTask[]): Promise<Task[]>;

  /**
   * Atomically claims the highest-priority claimable task (status pending or failed, available,
   * all dependencies completed; ties go to the oldest), or returns null. Expired leases are
   * returned to the queue first. Safe across processes: no task is ever handed to two workers.
   */
  claimTask(request: ClaimRequest): Promise<Task | null>;

  /** Extends the lease of a task the worker holds; throws TASK_LEASE_LOST if it no longer does. */
  extendLease(taskId: string, workerId: string, leaseMilliseconds: number): Promise<Task>;

  completeTask(taskId: string, workerId: string, result: unknown): Promise<Task>;

  /** Counts a failed attempt: back to the queue after a backoff, or to dead letter at maxAttempts. */
  failTask(taskId: string, workerId: string, error: string, policy: RetryPolicy): Promise<Task>;

  /** Returns tasks whose lease expired to the queue (reason claim_timeout). */
  reclaimExpiredLeases(policy: RetryPolicy): Promise<Task[]>;

  /**
   * Returns an in_progress task to pending WITHOUT counting a failure (attemptCount and failureCount
   * unchanged), with a `task.released` event. For a graceful stop, for a resumed run taking back its
   * own dead process's tasks, and for a task that must wait without holding a worker (a long rate
   * limit, an open circuit breaker): then `notBefore` (epoch ms) is when it may be claimed again,
   * recorded in the event as `availableAt`; otherwise it is claimable at once. With a workerId the
   * task must be held by that worker (else TASK_LEASE_LOST); with null, whoever holds it, and a task
   * that is not in_progress is returned unchanged with no event.
   */
  releaseTask(taskId: string, workerId: string | null, reason: string, notBefore?: number): Promise<Task>;

  /**
   * ONE transaction: inserts `newTasks` exactly as `insertTasks` does, makes the held task depend on
   * every one of them, and returns it to pending without counting a failure (`task.deferred`). It is
   * claimable again once they all complete. Throws TASK_LEASE_LOST (inserting nothing) unless the
   * worker holds the task, and TASK_DEPENDENCY_CYCLE if a new task waits, directly or through
   * stored tasks, for the deferred one: that would be a deadlock.
   */
  deferTask(taskId: string, workerId: string, newTasks: readonly NewTask[], reason: string): Promise<Task>;

  /**
   * ONE transaction: cancels an unfinished task and, with it, every task that waits for it directly
   * or through other tasks (they could never run), each with a reason naming the cancelled task
   * and its own `task.cancelled` event. A held task loses its lease: its worker notices and stops.
   */
  cancelTask(taskId: string, reason: string | null): Promise<CancelledTasks>;

  /** Brings a dead-lettered, failed or cancelled task back to pending with a fresh attempt budget. */
  retryTask(taskId: string): Promise<Task>;

  setTaskPriority(taskId: string, priority: number): Promise<Task>;

  getTask(taskId: string): Promise<Task | null>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  countTasks(): Promise<TaskCounts>;

  /**
   * Appends one event in a transaction of its own. Every event a store writes, here or inside a
   * transition, is checked against the event union first: an invalid one is refused with
   * EVENT_INVALID and its transaction writes nothing.
   */
  appendEvent(event: NewEvent): Promise<LokiEvent>;
  /** Events in sequence order, each matching every condition of the filter. */
  listEvents(filter?: EventFilter): Promise<LokiEvent[]>;
  /**
   * Calls `listener` after each transaction of THIS store object that appended events has
   * committed, with those events; never before the commit, never for a transaction rolled back.
   * Other connections and processes are not heard: a follower also polls `listEvents` (EventBus).
   * Returns a function that removes the listener.
   */
  onEventsAppended(listener: EventsAppendedListener): () => void;
  /**
   * Capability: calls `listener` after ANY connection, process or machine commits a transaction
   * that appended events, with the last sequence it wrote (PostgreSQL: LISTEN/NOTIFY). Only a
   * wake-up: readers read the log itself. Absent where the store has no such channel (SQLite),
   * and followers of another process's writes poll.
   */
  onEventsCommitted?(listener: (lastSequence: number) => void): () => void;

  /** Appends `run.started` (`resumed: false`), the settings and the first `phase.entered`. */
  createRun(run: NewRun): Promise<Run>;
  /**
   * The only writer of a run's lifecycle events after its creation: `phase.entered` when the phase
   * changes, `run.started` (`resumed: true`) for `resume`, `run.ended` when the status becomes
   * final (with `ending`'s outcome and exit code).
   */
  updateRun(runId: string, changes: RunChanges): Promise<Run>;
  /** One read by primary key: what a live run polls to learn of control requests. */
  getRun(runId: string): Promise<Run | null>;
  getLatestRun(): Promise<Run | null>;

  /**
   * ONE transaction: records a request to steer a running run (stop, pause, continue) on its row with
   * its event (`run.stop_requested`, `run.paused`, `run.continued`), for the run's process to act on.
   * A request that changes nothing (pausing a paused run) is answered with `isChanged: false` and no
   * event. Refused (changing nothing) for an unknown run (RUN_NOT_FOUND), a run that is not running
   * (RUN_NOT_RUNNING), and a pause or continue of a run that is stopping (RUN_STOPPING): see
   * decideRunControl.
   */
  requestRunControl(runId: string, request: RunControlRequest): Promise<RunControlOutcome>;

  loadBreaker(name: string): Promise<BreakerSnapshot | null>;
  /**
   * Overwrites a breaker; when `changed` (its state moved) a `breaker.changed` event is appended
   * too. For setting a known state (tools, tests): counting goes through `updateBreaker`.
   */
  saveBreaker(snapshot: BreakerSnapshot, changed: boolean): Promise<void>;
  /**
   * ONE transaction: reads the breaker, asks `transition` what it becomes, writes that (with a
   * `breaker.changed` event when its state changed) and returns the stored state. Concurrent updates,
   * from any connection or process, are serialised: none is lost. `transition` must be a pure,
   * synchronous function of the state it is given (an adapter may call it again on a retry).
   */
  updateBreaker(name: string, transition: BreakerTransition): Promise<BreakerSnapshot | null>;
  listBreakers(): Promise<BreakerSnapshot[]>;

  /**
   * ONE transaction: records a heartbeat of the process `heartbeat.id` (worker-record.ts). The
   * first registers it, with a `worker.joined` event (of no run: the process outlives its run's
   * last event); later ones update what it reports and
   * `lastHeartbeatAt`. A stopped worker stays stopped: a heartbeat that lands after
   * `markWorkerStopped` (a write still in flight while the process stopped) changes nothing.
   */
  recordWorkerHeartbeat(heartbeat: WorkerHeartbeat): Promise<WorkerRecord>;
  /**
   * ONE transaction: records that the process stopped, with a `worker.left` event. Null for an id
   * that never registered; a worker already stopped is returned unchanged, with no event.
   */
  markWorkerStopped(workerId: string): Promise<WorkerRecord | null>;
  /**
   * One consistent read of every registered worker, ordered by machine, then start, then id, each
   * with the tasks it holds now. Stopped and lost ones are listed too: `workerStateOf` tells them apart.
   */
  listWorkers(): Promise<WorkerRecord[]>;

  /** One consistent read of the counts and run state that `loki status` shows. */
  readSummary(): Promise<StoreSummary>;
  /** One consistent read of everything the projections show. */
  readSnapshot(): Promise<StoreSnapshot>;

  /**
   * Capability: the run's budget ledger kept in the store, so that every process and machine working
   * on the run reserves against the same cap and the same spend (PostgreSQL). Created on first use.
   * With `cap`, the cap stored with the run becomes `cap.capNanoUsd` (null: none); without, the stored
   * cap is read. A task that leaves its worker (lease expired, released) takes the open reservations
   * of its calls with it, in the same transaction. Absent where one process owns the run (SQLite):
   * then the run's governor keeps its ledger in memory.
   */
  openBudgetLedger?(runId: string, cap?: { capNanoUsd: number | null }): Promise<SharedBudgetLedger>;

  /**
   * Capability: writes a consistent copy of the store to the new file `path` while the store
   * stays in use. Absent where the database server has its own backups (PostgreSQL).
   */
  backUpTo?(path: string): Promise<void>;

  close(): Promise<void>;
}

export interface SharedBudgetLedger {
  ledger: BudgetLedger;
  /** The cap stored with the run, in nano-dollars; null when the run has none. */
  capNanoUsd: number | null;
  /** True for the one open, across all processes, that created the run's ledger. */
  isNew: boolean;
}

export interface ClaimRequest {
  workerId: string;
  /** Lease length; defaults to the task's own timeout. */
  leaseMilliseconds?: number;
  /** Only claim tasks of these agent types. */
  types?: readonly string[];
  /** Only claim this task (e.g. `loki task run` working on the task it just added). */
  taskId?: string;
}

export interface CancelledTasks {
  task: Task;
  /** What waited on it and was cancelled with it, in insertion order. */
  dependents: Task[];
}

export interface RetryPolicy {
  /** Seconds to wait before the task may be claimed again after its n-th failure (n ≥ 1). */
  backoffSeconds(failureCount: number): number;
}

export interface TaskFilter {
  statuses?: readonly TaskStatus[];
  type?: string;
  limit?: number;
}

export interface EventFilter {
  afterSequence?: number;
  taskId?: string;
  /** Only events of these types (an empty list matches none). */
  types?: readonly EventType[];
  runId?: string;
  limit?: number;
}

export type RunStatus = 'running' | 'stopped' | 'completed' | 'failed';

/**
 * What a running run has been asked to do, from any process: go on (`none`), `pause` (claim no new
 * task; agents at work finish theirs) or `stop` (like Ctrl-C: agents are signalled, their tasks go
 * back to the queue). Only meaningful while the run is running.
 */
export type RunControlState = 'none' | 'pause' | 'stop';
export type RunControlAction = 'stop' | 'pause' | 'continue';

export interface RunControlRequest {
  action: RunControlAction;
  /** Recorded in the event; `resume` is not a request but a new session clearing one (RunChanges.control). */
  requestedBy: Exclude<RunControlRequester, 'resume'>;
}

export interface RunControlOutcome {
  run: Run;
  /** False when the run already was as asked: nothing was written. */
  isChanged: boolean;
}

export interface Run {
  id: string;
  status: RunStatus;
  phase: string;
  prdPath: string | null;
  /** How the run was started (and last resumed); null for a run recorded before settings were kept. */
  settings: RunSettingsData | null;
  /** The latest control request (see RunControlState); `none` for a new run. */
  control: RunControlState;
  startedAt: number;
  updatedAt: number;
  endedAt: number | null;
}

export interface NewRun {
  id: string;
  prdPath: string | null;
  phase: string;
  /** Recorded with the run, with a `run.settings_recorded` event in the same transaction. */
  settings?: RunSettingsRecordedData;
}

export interface RunChanges {
  status?: RunStatus;
  phase?: string;
  /** Replaces the recorded settings (a resume given other flags); appends `run.settings_recorded`. */
  settings?: RunSettingsRecordedData;
  /**
   * `none` clears a stop or pause request left by a session of the run that has ended (killed, or
   * forced out by a second Ctrl-C), with `run.continued` requested by `resume`. A new session does
   * this as soon as it holds the run lock, before it watches for requests of its own. Requests
   * themselves go through requestRunControl. A status change never touches `control`.
   */
  control?: 'none';
  /**
   * A new session of the run begins (`loki resume`): the status goes back to running, whatever it
   * was (a killed session left it running), and `run.started` is appended with `resumed: true`.
   */
  resume?: boolean;
  /**
   * The run ends: its status becomes `runStatusOf(outcome)` and `run.ended` records the outcome
   * and the exit code. Without it a final `status` ends the run with that status as its outcome.
   */
  ending?: { outcome: RunOutcomeWord; exitCode: number };
}

/** The stored status of a run that ended so: only completed or stopped (user, budget) runs are not failures. */
export function runStatusOf(outcome: RunOutcomeWord): 'completed' | 'stopped' | 'failed' {
  if (outcome === 'completed') return 'completed';
  if (outcome === 'stopped' || outcome === 'budget') return 'stopped';
  return 'failed';
}

export interface StoreSummary {
  /** Circuit breakers that are not closed (open or half-open). */
  trippedBreakers: BreakerSnapshot[];
  counts: TaskCounts;
  latestRun: Run | null;
  /** Workers currently holding a lease. */
  activeWorkers: string[];
  lastEventSequence: number;
  /** When the last event was appended (epoch ms), or null for an empty store. */
  lastEventAt: number | null;
}

export interface StoreSnapshot extends StoreSummary {
  tasks: Task[];
}
