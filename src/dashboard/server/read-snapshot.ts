import { hostname } from 'node:os';
import { type AgentsJson, listAgentsOf, runLiveness } from '../../app/index.ts';
import type { LokiEvent } from '../../events/index.ts';
import type { Task } from '../../store/index.ts';
import { buildStatusReport, type StatusReport } from '../../workspace/index.ts';
import type { GateSummary } from './gates-fold.ts';
import type { PastRun } from './past-runs.ts';
import type { Metrics } from './read-metrics.ts';
import type { SharedWorkspace } from './shared-workspace.ts';

/** Events of the live log the first render shows; older ones are loaded on demand (readLogPage). */
export const SNAPSHOT_LOG_EVENTS = 200;
/** Most events one page of the older log holds. */
export const MAXIMUM_LOG_PAGE = 1000;

/** What the page shows that the API recomputes on each change: replaced whole when reloaded. */
export interface DashboardFigures {
  status: StatusReport;
  /** What the board shows of each task; the drawer reads the whole task (/api/tasks/:id). */
  tasks: TaskCard[];
  agents: AgentsJson;
  metrics: Metrics;
  runs: PastRun[];
  gates: GateSummary[];
}

export type TaskCard = Pick<Task, 'id' | 'type' | 'title' | 'status' | 'priority'>;

/** Per task: its last event and the model its agent used (null until it used one). */
export interface TaskActivity {
  sequence: number;
  lastType: string;
  model: string | null;
}

/**
 * The whole state of the page at one event sequence: the page renders it at once, then follows
 * the event stream from `sequence` on, instead of replaying the log from its first event.
 */
export interface DashboardSnapshot extends DashboardFigures {
  /** The last event the snapshot's log, activity and done counts include. */
  sequence: number;
  /** The newest events up to `sequence`, oldest first; readLogPage reaches further back. */
  log: LogPage;
  byTask: Record<string, TaskActivity>;
  doneByWorker: Record<string, number>;
}

export async function readFigures(shared: SharedWorkspace): Promise<DashboardFigures> {
  const workspace = await shared.open();
  const root = workspace.paths.root;
  const status = buildStatusReport(root, await workspace.store.readSummary(), {
    isRunAlive: runLiveness(root),
    workers: { records: await workspace.store.listWorkers(), now: shared.now, localMachine: hostname() },
  });
  const tasks = (await workspace.queue.list()).map(({ id, type, title, status: taskStatus, priority }) => ({
    id,
    type,
    title,
    status: taskStatus,
    priority,
  }));
  return {
    status,
    tasks,
    agents: await listAgentsOf(workspace, shared.now),
    metrics: await shared.metrics.read(workspace),
    runs: shared.pastRuns.list(),
    gates: await shared.gates.read(workspace),
  };
}

/**
 * The snapshot. The sequence is read first: figures read after it may be newer, which the page's
 * next reload settles; what the page derives from events (activity, done counts, the log) counts
 * only events up to it, so the stream that starts after it never adds one twice.
 */
export async function readSnapshot(shared: SharedWorkspace): Promise<DashboardSnapshot> {
  const { store } = await shared.open();
  const sequence = (await store.readSummary()).lastEventSequence;
  const figures = await readFigures(shared);
  const upToSnapshot = (event: LokiEvent) => event.sequence <= sequence;
  const page = await readLogPage(shared, sequence + 1, SNAPSHOT_LOG_EVENTS);
  const doneByWorker: Record<string, number> = {};
  for (const event of (await store.listEvents({ types: ['task.completed'] })).filter(upToSnapshot)) {
    if (event.type !== 'task.completed') continue;
    doneByWorker[event.data.workerId] = (doneByWorker[event.data.workerId] ?? 0) + 1;
  }
  // Only tasks at work need their activity now (the kanban's Review column, the agents' models);
  // a task that starts later gets it from the events that follow.
  const byTask: Record<string, TaskActivity> = {};
  for (const task of figures.tasks.filter((entry) => entry.status === 'in_progress')) {
    const events = (await store.listEvents({ taskId: task.id })).filter(upToSnapshot);
    const last = events.at(-1);
    if (last === undefined) continue;
    const usage = events.findLast((event) => event.type === 'usage.recorded');
    byTask[task.id] = {
      sequence: last.sequence,
      lastType: last.type,
      model: usage?.type === 'usage.recorded' ? usage.data.model : null,
    };
  }
  return { ...figures, sequence, log: page, byTask, doneByWorker };
}

export interface LogPage {
  events: LokiEvent[];
  hasOlder: boolean;
  /** Where the page before this one ends (its `before`). */
  nextBefore: number;
}

/**
 * Up to `limit` events just before sequence `before`, oldest first. Sequence numbers are dense
 * but need not be: a page may hold fewer, never skips one, and the next starts below its first.
 */
export async function readLogPage(shared: SharedWorkspace, before: number, limit: number): Promise<LogPage> {
  const workspace = await shared.open();
  const size = Math.max(1, Math.min(MAXIMUM_LOG_PAGE, limit));
  const afterSequence = Math.max(0, before - 1 - size);
  const events = (await workspace.store.listEvents({ afterSequence, limit: size })).filter(
    (event) => event.sequence < before,
  );
  const first = (await workspace.store.listEvents({ limit: 1 }))[0];
  const oldestShown = events[0]?.sequence ?? afterSequence + 1;
  return {
    events,
    hasOlder: first !== undefined && first.sequence < oldestShown,
    nextBefore: oldestShown,
  };
}

/** The latest verdict of each gate that has run, by gate name; none when no gate ran. */
export async function readGates(shared: SharedWorkspace): Promise<GateSummary[]> {
  return shared.gates.read(await shared.open());
}
