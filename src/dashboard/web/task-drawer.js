import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, postJson } from './api.js';
import { describeEvent, formatTime } from './format.js';
import { html } from './html.js';
import { ReviewFindings } from './review-findings.js';

const RETRYABLE = new Set(['failed', 'dead_letter', 'cancelled']);

/**
 * One task in a modal dialog: its figures, controls, tool calls, changed files, verification
 * output, review findings and every event. The native <dialog> keeps the focus inside and closes on Escape.
 */
export function TaskDrawer({ taskId, revision, onClose }) {
  const dialog = useRef(null);
  const [shown, setShown] = useState(null);
  const [message, setMessage] = useState(null);

  useEffect(() => {
    if (!dialog.current.open) dialog.current.showModal();
  }, []);
  useEffect(() => {
    let isCurrent = true;
    getJson(`/api/tasks/${encodeURIComponent(taskId)}`)
      .then((answer) => isCurrent && setShown(answer))
      .catch((error) => isCurrent && setMessage(error.message));
    return () => {
      isCurrent = false;
    };
  }, [taskId, revision]);

  const act = async (path, body, done) => {
    try {
      await postJson(`/api/tasks/${encodeURIComponent(taskId)}/${path}`, body);
      setMessage(done);
    } catch (error) {
      setMessage(error.message);
    }
  };
  const task = shown?.task;
  const events = shown?.events ?? [];
  const toolCalls = events.filter((event) => event.type === 'agent.tool_called');
  const verifications = events.filter((event) => event.type === 'verification.ran');
  const changedFiles = [
    ...new Set(
      toolCalls.flatMap((event) =>
        event.data.toolName === 'task_complete' && Array.isArray(event.data.input?.files_changed)
          ? event.data.input.files_changed.map(String)
          : event.data.toolName === 'write_file' && typeof event.data.input?.path === 'string'
            ? [event.data.input.path]
            : [],
      ),
    ),
  ];
  return html`<dialog ref=${dialog} class="drawer" aria-labelledby="drawer-title" onClose=${onClose}>
    <header class="drawer-header">
      <h2 id="drawer-title">${task === undefined ? taskId : task.title}</h2>
      <button type="button" onClick=${() => dialog.current.close()}>Close</button>
    </header>
    ${message !== null && html`<p role="status" class="message">${message}</p>`}
    ${
      task !== undefined &&
      html`<div>
        <dl class="figures">
          <div>
            <dt>Id</dt>
            <dd>${task.id}</dd>
          </div>
          <div>
            <dt>Type</dt>
            <dd>${task.type}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd data-testid="task-status">${task.status}</dd>
          </div>
          <div>
            <dt>Priority</dt>
            <dd>${task.priority}</dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>${task.attemptCount} of ${task.maxAttempts}</dd>
          </div>
        </dl>
        ${
          task.lastError !== null &&
          html`<h3>Last error</h3>
            <pre class="output" tabindex="0">${task.lastError}</pre>`
        }
        <div class="actions">
          ${
            RETRYABLE.has(task.status) &&
            html`<button
              type="button"
              onClick=${() => act('retry', {}, 'Retried: the task is back in the queue.')}
            >
              Retry
            </button>`
          }
          ${
            task.status !== 'completed' &&
            task.status !== 'cancelled' &&
            html`<button type="button" onClick=${() => act('cancel', {}, 'Cancelled.')}>Cancel task</button>`
          }
          <label>
            Priority
            <select
              value=${String(task.priority)}
              onChange=${(event) => act('priority', { priority: Number(event.currentTarget.value) }, 'Priority changed.')}
            >
              ${Array.from({ length: 10 }, (_, index) => html`<option value=${String(index + 1)}>${index + 1}</option>`)}
            </select>
          </label>
        </div>
        <h3>Description</h3>
        <pre class="output" tabindex="0">${task.description || '–'}</pre>
        <h3>Changed files</h3>
        ${
          changedFiles.length === 0
            ? html`<p>None recorded.</p>`
            : html`<ul>
                ${changedFiles.map((file) => html`<li key=${file}><code>${file}</code></li>`)}
              </ul>`
        }
        <h3>Tool calls</h3>
        ${
          toolCalls.length === 0
            ? html`<p>None yet.</p>`
            : html`<ol class="events">
                ${toolCalls.map((event) => html`<li key=${event.sequence}>${describeEvent(event)}</li>`)}
              </ol>`
        }
        <h3>Verification</h3>
        ${
          verifications.length === 0
            ? html`<p>Not run yet.</p>`
            : verifications.map(
                (event) =>
                  html`<div key=${event.sequence}>
                    <p>${describeEvent(event)}</p>
                    <pre class="output" tabindex="0">${event.data.outputTail}</pre>
                  </div>`,
              )
        }
        <h3>Review</h3>
        <${ReviewFindings} events=${events} />
        <h3>Events</h3>
        <ol class="events">
          ${events.map(
            (event) =>
              html`<li key=${event.sequence}>
                <span class="time">${formatTime(event.createdAt)}</span>
                <span class="type">${event.type}</span> ${describeEvent(event)}
              </li>`,
          )}
        </ol>
      </div>`
    }
  </dialog>`;
}
