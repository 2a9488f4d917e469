import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Agents } from './agents.js';
import { Continuity } from './continuity.js';
import { RunControls } from './controls.js';
import { html } from './html.js';
import { Kanban } from './kanban.js';
import { LiveLog } from './live-log.js';
import { useLiveDashboard } from './live-state.js';
import { Overview } from './overview.js';
import { TaskDrawer } from './task-drawer.js';

const VIEWS = [
  ['overview', 'Overview'],
  ['agents', 'Agents'],
  ['tasks', 'Tasks'],
  ['log', 'Live log'],
  ['continuity', 'CONTINUITY'],
];

function App() {
  const state = useLiveDashboard();
  const [view, setView] = useState(() => viewFromHash());
  const [openTaskId, setOpenTaskId] = useState(null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    const onHash = () => setView(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => {
      clearInterval(timer);
      window.removeEventListener('hashchange', onHash);
    };
  }, []);
  const run = state.status?.run ?? null;
  const props = { state, now, onOpenTask: setOpenTaskId };
  return html`
    <header class="top">
      <h1>Loki Mode</h1>
      <p class="run-line">
        ${`${run === null ? 'No run yet' : `${run.id} · ${run.status}`} · phase ${state.status?.phase ?? '…'} · `}
        <span data-connection=${state.connection}>${state.connection}</span>
      </p>
      <nav aria-label="Views">
        <ul>
          ${VIEWS.map(
            ([id, label]) =>
              html`<li key=${id}>
                <a href=${`#${id}`} aria-current=${view === id ? 'page' : undefined}>${label}</a>
              </li>`,
          )}
        </ul>
      </nav>
    </header>
    <main>
      ${state.error !== null && html`<p role="alert" class="message">${state.error}</p>`}
      <${RunControls} state=${state} />
      ${view === 'overview' && html`<${Overview} ...${props} />`}
      ${view === 'agents' && html`<${Agents} ...${props} />`}
      ${view === 'tasks' && html`<${Kanban} ...${props} />`}
      ${view === 'log' && html`<${LiveLog} ...${props} />`}
      ${view === 'continuity' && html`<${Continuity} revision=${state.status?.lastEventSequence ?? 0} />`}
    </main>
    ${
      openTaskId !== null &&
      html`<${TaskDrawer}
        key=${openTaskId}
        taskId=${openTaskId}
        revision=${state.byTask[openTaskId]?.sequence ?? 0}
        onClose=${() => setOpenTaskId(null)}
      />`
    }
  `;
}

function viewFromHash() {
  const id = window.location.hash.slice(1);
  return VIEWS.some(([view]) => view === id) ? id : 'overview';
}

const root = document.getElementById('app');
// The "Loading…" placeholder goes: render() diffs against what is there instead of replacing it.
root.replaceChildren();
render(html`<${App} />`, root);
