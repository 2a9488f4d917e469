import { useState } from 'preact/hooks';
import { postJson } from './api.js';
import { html } from './html.js';

/** Pause, continue and stop the run; add a task. Each says what happened in a status line. */
export function RunControls({ state }) {
  const [message, setMessage] = useState(null);
  const run = state.status?.run ?? null;
  const isLive = run !== null && ['running', 'paused', 'stopping'].includes(run.status);
  const send = async (path, body, describe) => {
    try {
      setMessage(describe(await postJson(path, body)));
    } catch (error) {
      setMessage(error.message);
    }
  };
  return html`<div class="controls">
    <div class="actions" role="group" aria-label="Run controls">
      <button
        type="button"
        disabled=${!isLive || run.status === 'paused'}
        onClick=${() =>
          send('/api/run/pause', {}, (answer) =>
            answer.isChanged
              ? 'Paused: no new task starts; agents at work finish theirs.'
              : 'Already paused.',
          )}
      >
        Pause
      </button>
      <button
        type="button"
        disabled=${!isLive || run.status !== 'paused'}
        onClick=${() =>
          send('/api/run/continue', {}, (answer) =>
            answer.isChanged ? 'Continued: tasks start again.' : 'Not paused.',
          )}
      >
        Continue
      </button>
      <button
        type="button"
        class="danger"
        disabled=${!isLive}
        onClick=${() => {
          if (
            window.confirm(
              'Stop the run? Agents are signalled and their tasks go back to the queue; loki resume continues it.',
            )
          ) {
            send('/api/run/stop', {}, () => 'Stop requested: the run is winding down.');
          }
        }}
      >
        Stop
      </button>
    </div>
    <${AddTask} types=${state.agents.types} onDone=${setMessage} />
    <p role="status" class="message">${message ?? ''}</p>
  </div>`;
}

function AddTask({ types, onDone }) {
  const [title, setTitle] = useState('');
  const [type, setType] = useState('eng-backend');
  const [priority, setPriority] = useState('5');
  const submit = async (event) => {
    event.preventDefault();
    try {
      const task = await postJson('/api/tasks', { type, title, priority: Number(priority) });
      onDone(`Added ${task.id}.`);
      setTitle('');
    } catch (error) {
      onDone(error.message);
    }
  };
  return html`<form class="add-task" onSubmit=${submit}>
    <label
      >New task <input required value=${title} onInput=${(event) => setTitle(event.currentTarget.value)}
    /></label>
    <label
      >Agent type
      <select value=${type} onChange=${(event) => setType(event.currentTarget.value)}>
        ${types.map((agentType) => html`<option value=${agentType.id}>${agentType.id}</option>`)}
      </select></label
    >
    <label
      >Priority
      <input
        type="number"
        min="1"
        max="10"
        value=${priority}
        onInput=${(event) => setPriority(event.currentTarget.value)}
    /></label>
    <button type="submit">Add task</button>
  </form>`;
}
