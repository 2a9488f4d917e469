import { html } from './html.js';
import { formatDuration, formatTime, formatUsd } from './format.js';
import { Gates } from './gates.js';

const COUNT_LABELS = [
  ['pending', 'Pending'],
  ['inProgress', 'In progress'],
  ['completed', 'Completed'],
  ['failed', 'Failed'],
  ['deadLetter', 'Dead letter'],
  ['cancelled', 'Cancelled'],
];

export function Overview({ state, now }) {
  const { status, metrics, runs } = state;
  if (status === null) return html`<p>Loading…</p>`;
  const run = status.run;
  const elapsed =
    run === null ? null : (run.endedAt === null ? now : Date.parse(run.endedAt)) - Date.parse(run.startedAt);
  const budget = metrics.budgetUsd;
  return html`
    <section aria-labelledby="overview-heading">
      <h2 id="overview-heading">Overview</h2>
      <dl class="figures">
        <div>
          <dt>Run</dt>
          <dd>${run === null ? 'none yet' : `${run.id} (${run.status})`}</dd>
        </div>
        <div>
          <dt>Phase</dt>
          <dd>${status.phase}</dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd>${formatDuration(elapsed)}</dd>
        </div>
        <div>
          <dt>Active agents</dt>
          <dd>${status.agents.active}</dd>
        </div>
        <div>
          <dt>Spend</dt>
          <dd>${formatUsd(metrics.spentUsd)}${budget === null ? '' : ` of ${formatUsd(budget)}`}</dd>
        </div>
      </dl>
      ${
        budget !== null &&
        html`<progress
          class="budget"
          max=${budget}
          value=${Math.min(metrics.spentUsd, budget)}
          aria-label="Spend against budget"
        ></progress>`
      }
      ${status.hint !== null && html`<p class="hint" role="note">${status.hint}</p>`}
      <h3>Queue</h3>
      <ul class="counts">
        ${COUNT_LABELS.map(([key, label]) => html`<li key=${key}><span class="count">${status.queue[key]}</span> ${label}</li>`)}
      </ul>
      <${Gates} gates=${state.gates ?? []} />
      <h3>Phases</h3>
      <${PhaseTimeline} phases=${metrics.phases} now=${now} />
      <h3>Spend and tokens over time</h3>
      <div class="charts">
        <${LineChart}
          label="Spend (USD)"
          points=${metrics.points}
          value=${(point) => point.spentUsd}
          format=${formatUsd}
        />
        <${LineChart}
          label="Tokens"
          points=${metrics.points}
          value=${(point) => point.tokens}
          format=${String}
        />
        <${LineChart}
          label="Tasks done"
          points=${metrics.points}
          value=${(point) => point.tasksDone}
          format=${String}
        />
        <${LineChart}
          label="Merges"
          points=${metrics.points}
          value=${(point) => point.merges}
          format=${String}
        />
      </div>
      <h3>Past runs</h3>
      ${
        runs.length === 0
          ? html`<p>No run has ended yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Exit</th>
                  <th scope="col">Summary</th>
                </tr>
              </thead>
              <tbody>
                ${runs.map(
                  (past) =>
                    html`<tr key=${past.runId}>
                      <td>${past.runId}</td>
                      <td>${past.status}</td>
                      <td>${past.exitCode ?? '–'}</td>
                      <td>${past.summary}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>
  `;
}

function PhaseTimeline({ phases, now }) {
  if (phases.length === 0) return html`<p>No phase has started yet.</p>`;
  return html`<ol class="timeline">
    ${phases.map(
      (span, index) =>
        html`<li key=${index} class=${`phase phase-${span.outcome ?? 'running'}`}>
          <span class="phase-name">${span.phase}</span>
          <span class="phase-detail">
            ${formatTime(span.enteredAt)} · ${formatDuration((span.exitedAt ?? now) - span.enteredAt)} ·
            ${span.outcome ?? 'in progress'}
          </span>
        </li>`,
    )}
  </ol>`;
}

const WIDTH = 240;
const HEIGHT = 60;

/** A small line chart; its figure is also said in text (the chart itself is decoration). */
function LineChart({ label, points, value, format }) {
  const last = points.at(-1);
  const values = points.map(value);
  const maximum = Math.max(1e-9, ...values);
  const first = points[0]?.at ?? 0;
  const span = Math.max(1, (last?.at ?? 0) - first);
  const path = points
    .map(
      (point, index) =>
        `${((point.at - first) / span) * WIDTH},${HEIGHT - (values[index] / maximum) * HEIGHT}`,
    )
    .join(' ');
  return html`<figure class="chart">
    <figcaption>${label}: ${format(last === undefined ? 0 : value(last))}</figcaption>
    <svg
      viewBox=${`0 0 ${WIDTH} ${HEIGHT}`}
      width=${WIDTH}
      height=${HEIGHT}
      aria-hidden="true"
      focusable="false"
    >
      <polyline points=${path} fill="none" stroke="currentColor" stroke-width="2" />
    </svg>
  </figure>`;
}
