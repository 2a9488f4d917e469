import { useState } from 'preact/hooks';
import { html } from './html.js';

/** Cards drawn per column until asked for all: a queue of a thousand tasks is drawn at once. */
const CARDS_SHOWN = 100;

const REVIEW_EVENT = /^(verification|merge|review|gate|secret)\./;

const COLUMNS = [
  { id: 'pending', title: 'Pending', holds: (task) => task.status === 'pending' },
  {
    id: 'in-progress',
    title: 'In progress',
    holds: (task, byTask) => task.status === 'in_progress' && !isInReview(task, byTask),
  },
  {
    id: 'review',
    title: 'Review',
    holds: (task, byTask) => task.status === 'in_progress' && isInReview(task, byTask),
  },
  { id: 'completed', title: 'Completed', holds: (task) => task.status === 'completed' },
  {
    id: 'failed',
    title: 'Failed / Dead letter',
    holds: (task) => task.status === 'failed' || task.status === 'dead_letter' || task.status === 'cancelled',
  },
];

/** A task whose agent is done and whose work is being verified or merged. */
function isInReview(task, byTask) {
  return REVIEW_EVENT.test(byTask[task.id]?.lastType ?? '');
}

export function Kanban({ state, onOpenTask }) {
  const [expanded, setExpanded] = useState({});
  return html`<section aria-labelledby="kanban-heading">
    <h2 id="kanban-heading">Tasks</h2>
    <div class="kanban">
      ${COLUMNS.map((column) => {
        const tasks = state.tasks.filter((task) => column.holds(task, state.byTask));
        const shown = expanded[column.id] === true ? tasks : tasks.slice(0, CARDS_SHOWN);
        return html`<section
          class="column"
          key=${column.id}
          data-column=${column.id}
          aria-labelledby=${`column-${column.id}`}
        >
          <h3 id=${`column-${column.id}`}>${column.title} <span class="count">${tasks.length}</span></h3>
          <ul>
            ${shown.map(
              (task) =>
                html`<li key=${task.id}>
                  <button
                    type="button"
                    class="card"
                    data-task-id=${task.id}
                    onClick=${() => onOpenTask(task.id)}
                  >
                    <span class="card-title">${task.title}</span>
                    <span class="card-meta"
                      >${task.id} · ${task.type} ·
                      p${task.priority}${task.status === 'dead_letter' ? ' · dead letter' : ''}</span
                    >
                  </button>
                </li>`,
            )}
          </ul>
          ${
            shown.length < tasks.length &&
            html`<button
              type="button"
              class="link"
              onClick=${() => setExpanded((old) => ({ ...old, [column.id]: true }))}
            >
              Show all ${tasks.length}
            </button>`
          }
        </section>`;
      })}
    </div>
  </section>`;
}
