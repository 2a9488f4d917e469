import { sanitizeForTerminal, truncate } from '../terminal-text.ts';
import type { PanelView } from './panel-state.ts';
import type { Paint } from './terminal-style.ts';

export interface PanelLayout {
  now: number;
  columns: number;
  rows: number;
  paint: Paint;
}

/** Lines of the panel besides the agents' rows: rule, header, queue, agents title, rule. */
const FIXED_LINES = 5;

/**
 * The panel as lines, each narrower than the terminal (LiveRegion's invariant). Model-written text
 * (task titles) is sanitised: it must not move the cursor or recolour the terminal.
 */
export function renderPanel(view: PanelView, layout: PanelLayout): string[] {
  const { paint, now } = layout;
  const width = Math.max(20, layout.columns - 1);
  const fit = (text: string) => truncate(oneLine(text), width);
  const control = view.control === 'running' ? '' : ` · ${view.control.toUpperCase()}`;
  const spend = `spent $${view.spentUsd.toFixed(4)}` + (view.capUsd === null ? '' : ` of $${view.capUsd}`);
  const header = fit(
    `Loki ${view.runId ?? ''} · ${view.phase}${control} · ${formatDuration(now - view.startedAt)} · ${spend}`,
  );
  const queue = view.queue;
  const queueLine =
    queue === null
      ? 'Queue: …'
      : `Queue: ${queue.pending} pending · ${queue.inProgress} in progress · ${queue.completed} completed · ${queue.failed} failed · ${queue.deadLetter} dead letter · ${queue.total} total`;
  const agentRows = Math.max(1, layout.rows - FIXED_LINES - 1);
  const shown = view.agents.length > agentRows ? view.agents.slice(0, agentRows - 1) : view.agents;
  const lines = [
    paint('dim', '─'.repeat(Math.min(width, 60))),
    paint(view.control === 'running' ? 'bold' : 'yellow', header),
    fit(queueLine),
    fit(
      `Agents: ${view.agents.length}${view.parallel === null ? '' : ` of ${view.parallel}`}` +
        (view.agents.length === 0 ? ' (none at work)' : ''),
    ),
    ...shown.map((agent) => {
      const elapsed = formatDuration(now - agent.since).padStart(7);
      // Task ids come from the planner (a model) too.
      const prefix = `  ${oneLine(shortWorker(agent.worker)).padEnd(4)} ${elapsed}  ${oneLine(agent.taskId)}  `;
      const room = width - prefix.length;
      return room < 2
        ? paint('cyan', fit(prefix))
        : `${paint('cyan', prefix)}${truncate(oneLine(agent.title), room)}`;
    }),
    ...(shown.length < view.agents.length ? [fit(`  … and ${view.agents.length - shown.length} more`)] : []),
    paint('dim', '─'.repeat(Math.min(width, 60))),
  ];
  return lines;
}

/** "w3" of "run:<id>:<pid>:w3": the worker's own part of its id. */
function shortWorker(worker: string): string {
  return worker.split(':').at(-1) ?? worker;
}

function oneLine(text: string): string {
  return sanitizeForTerminal(text).replace(/\s+/g, ' ');
}

/** "42s", "3m 05s", "1h 02m". */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
