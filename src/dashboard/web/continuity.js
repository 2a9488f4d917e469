import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { html } from './html.js';

/** CONTINUITY.md as text (agents write into it: it is shown, never rendered as markup). */
export function Continuity({ revision }) {
  const [markdown, setMarkdown] = useState(undefined);
  const [error, setError] = useState(null);
  useEffect(() => {
    getJson('/api/continuity')
      .then((answer) => setMarkdown(answer.markdown))
      .catch((caught) => setError(caught.message));
  }, [revision]);
  return html`<section aria-labelledby="continuity-heading">
    <h2 id="continuity-heading">CONTINUITY.md</h2>
    ${error !== null && html`<p role="alert">${error}</p>`}
    ${markdown === undefined ? html`<p>Loading…</p>` : markdown === null ? html`<p>No CONTINUITY.md yet.</p>` : html`<pre class="output" tabindex="0">${markdown}</pre>`}
  </section>`;
}
