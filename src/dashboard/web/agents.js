import { html } from './html.js';
import { formatDuration } from './format.js';
import { Workers } from './workers.js';

export function Agents({ state, now, onOpenTask }) {
  const { instances } = state.agents;
  const typesById = new Map(state.agents.types.map((type) => [type.id, type]));
  const workers = Object.keys(state.doneByWorker).filter(
    (worker) => !instances.some((instance) => instance.worker === worker),
  );
  return html`<section aria-labelledby="agents-heading">
      <h2 id="agents-heading">Agents</h2>
      ${instances.length === 0 && html`<p>No agent is working now.</p>`}
      <table>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Type</th>
            <th scope="col">Model</th>
            <th scope="col">Current task</th>
            <th scope="col">Runtime</th>
            <th scope="col">Tasks done</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          ${instances.flatMap((instance) =>
            instance.tasks.map((task) => {
              const model = state.byTask[task.id]?.model ?? null;
              return html`<tr key=${`${instance.worker}:${task.id}`}>
                <td>${instance.worker}</td>
                <td>${task.type}${typesById.has(task.type) ? '' : ' (unknown type)'}</td>
                <td>
                  ${model === null ? html`<span class="badge badge-muted">–</span>` : html`<span class="badge">${model}</span>`}
                </td>
                <td>
                  <button type="button" class="link" onClick=${() => onOpenTask(task.id)}>
                    ${task.title}
                  </button>
                </td>
                <td>${formatDuration(task.since === null ? null : now - Date.parse(task.since))}</td>
                <td>${state.doneByWorker[instance.worker] ?? 0}</td>
                <td>${task.isLeaseExpired ? 'lease expired' : 'working'}</td>
              </tr>`;
            }),
          )}
          ${workers.map(
            (worker) =>
              html`<tr key=${worker}>
                <td>${worker}</td>
                <td>–</td>
                <td>–</td>
                <td>–</td>
                <td>–</td>
                <td>${state.doneByWorker[worker]}</td>
                <td>idle</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <${Workers} machines=${state.status?.machines ?? []} />`;
}
