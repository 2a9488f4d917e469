import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from './api.js';

/** Events kept for the live log; older ones are dropped (the store keeps them all). */
const LOG_LIMIT = 2000;
/** Bursts of events are folded into one reload of the figures. */
const RELOAD_DELAY_MILLISECONDS = 150;

const EMPTY = {
  status: null,
  tasks: [],
  agents: { types: [], instances: [] },
  metrics: { points: [], phases: [], budgetUsd: null, spentUsd: 0 },
  runs: [],
  log: [],
  /** Per task: the last event type seen and the model its agent used. */
  byTask: {},
  /** Per worker: tasks it completed. */
  doneByWorker: {},
  connection: 'connecting',
  error: null,
};

/**
 * The dashboard's state: a snapshot from the API, then kept live by the event stream. The stream
 * starts at the first event and the browser resumes it with Last-Event-ID after a drop, so the
 * per-task and per-worker figures derived from events are complete.
 */
export function useLiveDashboard() {
  const [state, setState] = useState(EMPTY);
  const reloadTimer = useRef(null);

  useEffect(() => {
    let isClosed = false;
    const reload = async () => {
      reloadTimer.current = null;
      try {
        const [status, tasks, agents, metrics, runs] = await Promise.all([
          getJson('/api/status'),
          getJson('/api/tasks'),
          getJson('/api/agents'),
          getJson('/api/metrics'),
          getJson('/api/runs'),
        ]);
        if (!isClosed) setState((old) => ({ ...old, status, tasks, agents, metrics, runs, error: null }));
      } catch (error) {
        if (!isClosed) setState((old) => ({ ...old, error: error.message }));
      }
    };
    const scheduleReload = () => {
      if (reloadTimer.current === null) reloadTimer.current = setTimeout(reload, RELOAD_DELAY_MILLISECONDS);
    };
    reload();
    const source = new EventSource('/api/events');
    source.onopen = () => setState((old) => ({ ...old, connection: 'live' }));
    source.onerror = () => setState((old) => ({ ...old, connection: 'reconnecting' }));
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      setState((old) => applyEvent(old, event));
      scheduleReload();
    };
    return () => {
      isClosed = true;
      source.close();
      if (reloadTimer.current !== null) clearTimeout(reloadTimer.current);
    };
  }, []);

  return state;
}

function applyEvent(state, event) {
  const log =
    state.log.length >= LOG_LIMIT ? [...state.log.slice(1 - LOG_LIMIT), event] : [...state.log, event];
  let { byTask, doneByWorker } = state;
  if (event.taskId !== null) {
    const previous = byTask[event.taskId] ?? { lastType: null, model: null };
    byTask = {
      ...byTask,
      [event.taskId]: {
        lastType: event.type,
        model: event.type === 'usage.recorded' ? event.data.model : previous.model,
      },
    };
  }
  if (event.type === 'task.completed') {
    const worker = event.data.workerId;
    doneByWorker = { ...doneByWorker, [worker]: (doneByWorker[worker] ?? 0) + 1 };
  }
  return { ...state, log, byTask, doneByWorker };
}
