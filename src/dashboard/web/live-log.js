import { useState } from 'preact/hooks';
import { describeEvent, formatTime } from './format.js';
import { html } from './html.js';

/** Rows rendered at once: the newest; the filters reach further back. */
const SHOWN = 300;
const CATEGORIES = [
  'all',
  'run',
  'phase',
  'task',
  'agent',
  'merge',
  'verification',
  'review',
  'gate',
  'usage',
];

export function LiveLog({ state, onOpenTask }) {
  const [category, setCategory] = useState('all');
  const [text, setText] = useState('');
  const needle = text.trim().toLowerCase();
  const matching = state.log.filter(
    (event) =>
      (category === 'all' || event.type.startsWith(`${category}.`)) &&
      (needle === '' ||
        event.type.includes(needle) ||
        (event.taskId ?? '').toLowerCase().includes(needle) ||
        describeEvent(event).toLowerCase().includes(needle)),
  );
  const shown = matching.slice(-(SHOWN + state.olderLoaded)).reverse();
  return html`<section aria-labelledby="log-heading">
    <h2 id="log-heading">Live log</h2>
    <div class="filters">
      <label
        >Kind
        <select value=${category} onChange=${(event) => setCategory(event.currentTarget.value)}>
          ${CATEGORIES.map((name) => html`<option value=${name}>${name}</option>`)}
        </select></label
      >
      <label
        >Filter
        <input
          type="search"
          value=${text}
          onInput=${(event) => setText(event.currentTarget.value)}
          placeholder="task id, type or text"
      /></label>
      <span role="status" data-testid="log-count"
        >${matching.length} of ${state.log.length} loaded event${state.log.length === 1 ? '' : 's'}</span
      >
      ${state.olderBefore !== null && html`<button type="button" onClick=${state.loadOlder}>Load older events</button>`}
    </div>
    <ol class="log" aria-label="Events, newest first">
      ${shown.map(
        (event) =>
          html`<li key=${event.sequence}>
            <span class="time">${formatTime(event.createdAt)}</span>
            <span class="type">${event.type}</span>
            ${event.taskId !== null && html`<button type="button" class="link" onClick=${() => onOpenTask(event.taskId)}>${event.taskId}</button>`}
            <span class="text">${describeEvent(event)}</span>
          </li>`,
      )}
    </ol>
  </section>`;
}
