import { formatCounts, formatTime } from './format.js';
import { html } from './html.js';

const VERDICT_LABELS = { pass: 'pass', fail: 'fail', 'not-proven': 'not proven' };

/**
 * The latest verdict of each gate (gate.evaluated events), or a line saying none has run: a
 * workspace without gates, or one before its first merge, shows that and nothing else.
 */
export function Gates({ gates }) {
  return html`<h3 id="gates-heading">Gates</h3>
    ${
      gates.length === 0
        ? html`<p>No gate has run yet.</p>`
        : html`<table aria-labelledby="gates-heading" class="gates">
            <thead>
              <tr>
                <th scope="col">Gate</th>
                <th scope="col">Verdict</th>
                <th scope="col">Reason</th>
                <th scope="col">Tests</th>
                <th scope="col">Commit</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              ${gates.map(
                (gate) =>
                  html`<tr key=${gate.gate} data-gate=${gate.gate}>
                    <th scope="row">${gate.gate}</th>
                    <td>
                      <span
                        class=${`verdict verdict-${gate.verdict === 'pass' ? 'pass' : gate.verdict === 'fail' ? 'fail' : 'unproven'}`}
                        >${VERDICT_LABELS[gate.verdict] ?? String(gate.verdict)}</span
                      >
                    </td>
                    <td class="reason">${gate.reason}</td>
                    <td>${formatCounts(gate.counts)}</td>
                    <td><code>${String(gate.commit).slice(0, 10)}</code></td>
                    <td>${formatTime(gate.at)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}
