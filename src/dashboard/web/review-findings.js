import { html } from './html.js';

/**
 * A task's blind review: each round's outcome and its findings. Reviewers are models: every
 * string here is theirs and goes into text nodes only.
 */
export function ReviewFindings({ events }) {
  const rounds = events.filter((event) => event.type === 'review.completed');
  const findings = events.filter((event) => event.type === 'review.finding_reported');
  if (rounds.length === 0 && findings.length === 0) return html`<p>Not reviewed yet.</p>`;
  return html`<div class="review">
    ${rounds.map(
      (event) => html`<p key=${event.sequence} data-testid="review-round">${describeRound(event.data)}</p>`,
    )}
    ${
      findings.length > 0 &&
      html`<ol class="findings">
        ${findings.map(
          (event) =>
            html`<li key=${event.sequence} data-testid="review-finding">
              <p>
                <span class=${`severity severity-${String(event.data.severity).toLowerCase()}`}
                  >${event.data.severity}</span
                >
                <code>${event.data.file}:${event.data.line}</code> · ${event.data.reviewer} · round
                ${event.data.round} · ${ROUTING[event.data.routing] ?? event.data.routing}
              </p>
              <p class="finding-message">${event.data.message}</p>
              ${event.data.suggestedFix !== '' && html`<pre class="output" tabindex="0">${event.data.suggestedFix}</pre>`}
            </li>`,
        )}
      </ol>`
    }
  </div>`;
}

const ROUTING = {
  fix: 'sent back to be fixed',
  todo_comment: 'left as a TODO comment',
  nitpick_comment: 'left as a nitpick comment',
};

function describeRound(round) {
  const outcome = round.outcome === 'approved' ? 'approved' : 'changes requested';
  return `Round ${round.round}: ${outcome} (${describeCounts(round.counts)}), next: ${round.next}`;
}

function describeCounts(counts) {
  return ['critical', 'high', 'medium', 'low', 'cosmetic']
    .map((severity) => `${counts?.[severity] ?? 0} ${severity}`)
    .join(', ');
}
