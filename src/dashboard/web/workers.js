import { html } from './html.js';
import { formatTime } from './format.js';

/**
 * The Loki processes working on the store (the run, `loki worker` on other machines), grouped by
 * machine, as the figures last read them: their state was judged then. Every string here was
 * written by a process about itself and is put in text nodes only.
 */
export function Workers({ machines }) {
  return html`<section aria-labelledby="workers-heading">
    <h2 id="workers-heading">Workers by machine</h2>
    ${machines.length === 0 && html`<p>No Loki process is working on the store now.</p>`}
    ${machines.map(
      (machine, index) =>
        html`<div key=${machine.machine} data-machine=${machine.machine}>
          <h3 id=${`machine-${index}`} class="machine-name">${machine.machine}</h3>
          <table aria-labelledby=${`machine-${index}`}>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Parallel</th>
                <th scope="col">Types</th>
                <th scope="col">Tasks held</th>
              </tr>
            </thead>
            <tbody>
              ${machine.workers.map(
                (worker) =>
                  html`<tr key=${worker.id} data-worker=${worker.id}>
                    <td class="worker-id">${worker.id}</td>
                    <td>${worker.role}</td>
                    <td class="worker-state">${worker.state}</td>
                    <td>
                      ${`${formatTime(Date.parse(worker.lastHeartbeatAt))} (${worker.heartbeatAgeSeconds} s old when read)`}
                    </td>
                    <td>${worker.parallel}</td>
                    <td class="worker-types">${worker.types === null ? 'any' : worker.types.join(', ')}</td>
                    <td>${worker.tasks.length === 0 ? '–' : worker.tasks.join(', ')}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`,
    )}
  </section>`;
}
