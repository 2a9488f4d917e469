import { useCallback, useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';

/** Events kept for the live log as new ones arrive; loading older ones raises it. */
const LOG_LIMIT = 2000;
/** Events per "load older" page. */
const OLDER_PAGE = 500;
/**
 * A burst of events is folded into one reload of the figures, at most this often: the server
 * runs inside the loki process, and what it spends there is taken from the run. Task moves are
 * applied from the events at once (TASK_STATUS_AFTER); counts, agents and spend follow the reload.
 */
const RELOAD_INTERVAL_MILLISECONDS = 2000;
/** The status a task has after each of these events, for the board between two reloads. */
const TASK_STATUS_AFTER = {
  'task.claimed': 'in_progress',
  'task.completed': 'completed',
  'task.dead_lettered': 'dead_letter',
  'task.cancelled': 'cancelled',
  'task.retried': 'pending',
  'task.released': 'pending',
};
/** requestAnimationFrame stops in a hidden tab: events are then applied this often instead. */
const HIDDEN_FLUSH_MILLISECONDS = 1000;

const EMPTY = {
  status: null,
  tasks: [],
  agents: { types: [], instances: [] },
  metrics: { points: [], phases: [], budgetUsd: null, spentUsd: 0 },
  runs: [],
  gates: [],
  log: [],
  /** Older events loaded on demand: kept (and shown) on top of the live log's limit. */
  olderLoaded: 0,
  /** Where the next page of older events ends; null when there is none. */
  olderBefore: null,
  /** Per task: its last event's sequence and type, and the model its agent used. */
  byTask: {},
  /** Per worker: tasks it completed. */
  doneByWorker: {},
  connection: 'connecting',
  error: null,
};

/**
 * The dashboard's state: one snapshot from the API (the figures, the newest events, what is
 * derived from the older ones), rendered at once, then kept live by the event stream from the
 * snapshot's sequence on. Events are applied in batches, one render per animation frame, however
 * fast they come; the figures are reloaded after a burst.
 */
export function useLiveDashboard() {
  const [state, setState] = useState(EMPTY);

  useEffect(() => {
    let isClosed = false;
    let source = null;
    const pending = [];
    let frame = null;
    let hiddenTimer = null;
    let reloadTimer = null;
    let lastReload = 0;

    const reload = async () => {
      reloadTimer = null;
      lastReload = Date.now();
      try {
        const figures = await getJson('/api/figures');
        if (!isClosed) setState((old) => ({ ...old, ...figures, error: null }));
      } catch (error) {
        if (!isClosed) setState((old) => ({ ...old, error: error.message }));
      }
    };
    const scheduleReload = () => {
      if (reloadTimer !== null) return;
      const wait = Math.max(0, lastReload + RELOAD_INTERVAL_MILLISECONDS - Date.now());
      reloadTimer = setTimeout(reload, wait);
    };
    const flush = () => {
      window.cancelAnimationFrame(frame);
      clearTimeout(hiddenTimer);
      frame = null;
      hiddenTimer = null;
      if (pending.length === 0 || isClosed) return;
      const batch = pending.splice(0);
      setState((old) => applyEvents(old, batch));
      scheduleReload();
    };
    const follow = (afterSequence) => {
      source = new EventSource(`/api/events?after=${afterSequence}`);
      source.onopen = () => setState((old) => ({ ...old, connection: 'live' }));
      source.onerror = () => setState((old) => ({ ...old, connection: 'reconnecting' }));
      source.onmessage = (message) => {
        pending.push(JSON.parse(message.data));
        if (frame === null) {
          frame = window.requestAnimationFrame(flush);
          hiddenTimer = setTimeout(flush, HIDDEN_FLUSH_MILLISECONDS);
        }
      };
    };

    getJson('/api/snapshot').then(
      (snapshot) => {
        if (isClosed) return;
        lastReload = Date.now();
        const { sequence, log, ...figures } = snapshot;
        setState((old) => ({
          ...old,
          ...figures,
          log: log.events,
          olderBefore: log.hasOlder ? log.nextBefore : null,
          error: null,
        }));
        follow(sequence);
      },
      (error) => {
        if (!isClosed) setState((old) => ({ ...old, error: error.message }));
      },
    );
    return () => {
      isClosed = true;
      source?.close();
      window.cancelAnimationFrame(frame);
      clearTimeout(hiddenTimer);
      clearTimeout(reloadTimer);
    };
  }, []);

  const loadOlder = useCallback(async () => {
    const before = state.olderBefore;
    if (before === null) return;
    try {
      const page = await getJson(`/api/log?before=${before}&limit=${OLDER_PAGE}`);
      setState((old) => ({
        ...old,
        log: [...page.events, ...old.log],
        olderLoaded: old.olderLoaded + page.events.length,
        olderBefore: page.hasOlder ? page.nextBefore : null,
      }));
    } catch (error) {
      setState((old) => ({ ...old, error: error.message }));
    }
  }, [state.olderBefore]);

  return { ...state, loadOlder };
}

/** Applies a batch of events in one copy of the state (a render per batch, not per event). */
function applyEvents(state, events) {
  const limit = LOG_LIMIT + state.olderLoaded;
  const joined = state.log.concat(events);
  const log = joined.length > limit ? joined.slice(joined.length - limit) : joined;
  const byTask = { ...state.byTask };
  let doneByWorker = state.doneByWorker;
  for (const event of events) {
    if (event.taskId !== null) {
      const previous = byTask[event.taskId] ?? { lastType: null, model: null };
      byTask[event.taskId] = {
        sequence: event.sequence,
        lastType: event.type,
        model: event.type === 'usage.recorded' ? event.data.model : previous.model,
      };
    }
    if (event.type === 'task.completed') {
      const worker = event.data.workerId;
      doneByWorker = { ...doneByWorker, [worker]: (doneByWorker[worker] ?? 0) + 1 };
    }
  }
  return { ...state, log, byTask, doneByWorker, tasks: movedTasks(state.tasks, events) };
}

function movedTasks(tasks, events) {
  const moves = new Map();
  for (const event of events) {
    const status = TASK_STATUS_AFTER[event.type];
    if (status !== undefined && event.taskId !== null) moves.set(event.taskId, status);
  }
  if (moves.size === 0) return tasks;
  return tasks.map((task) => (moves.has(task.id) ? { ...task, status: moves.get(task.id) } : task));
}
