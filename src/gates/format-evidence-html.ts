import { describePrdCoverage, type EvidenceDocument } from './evidence-document.ts';

/** Every character that could start markup or end an attribute: model-written text is hostile. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// Colours chosen for WCAG AA contrast on both schemes; no external asset, no script.
const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --pass: #116329; --fail: #a40e26; --gap: #7d4e00; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --line: #30363d;
    --pass: #56d364; --fail: #ff7b72; --gap: #e3b341; --head: #161b22; } }
body { background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, sans-serif; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.headline { font-size: 1.4rem; font-weight: 700; }
.VERIFIED, .pass, .yes { color: var(--pass); } .NOT-VERIFIED, .fail, .no { color: var(--fail); }
.VERIFIED-WITH-GAPS, .not-proven { color: var(--gap); }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { border: 1px solid var(--line); padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: var(--head); }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
ul.compact { margin: 0; padding-left: 1.1rem; }
`;

/** One standalone page (inline style, no script, no external asset) of an evidence report. */
export function formatEvidenceHtml(document: EvidenceDocument): string {
  const sections = [
    `<h1>${escapeHtml(document.title)}</h1>`,
    `<p class="headline ${document.headline.replace(/ /g, '-')}">${escapeHtml(document.headline)} <span class="muted">(exit ${document.exitCode})</span></p>`,
    `<p>${escapeHtml(document.summary)}</p>`,
    `<p><strong>${escapeHtml(describePrdCoverage(document.prd))}</strong>. <span class="muted">Generated ${escapeHtml(document.generatedAt)}.</span></p>`,
    requirementsSection(document),
    gatesSection(document),
    findingsSection(document),
    notProvenSection(document),
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`${document.headline}: ${document.title}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...sections,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function list(items: readonly string[], empty = '—'): string {
  if (items.length === 0) return `<span class="muted">${empty}</span>`;
  return `<ul class="compact">${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

function table(caption: string, headers: readonly string[], rows: readonly string[][]): string {
  const head = `<tr>${headers.map((header) => `<th scope="col">${header}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<caption class="muted">${caption}</caption>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function requirementsSection(document: EvidenceDocument): string {
  if (document.requirements.length === 0)
    return '<h2>Requirements</h2>\n<p class="muted">No requirements to trace.</p>';
  const rows = document.requirements.map((requirement) => [
    `<strong>${escapeHtml(requirement.id)}</strong> ${escapeHtml(requirement.title)}`,
    requirement.proven ? '<span class="yes">proven</span>' : '<span class="no">NOT proven</span>',
    list(requirement.tasks.map((task) => `<code>${escapeHtml(task)}</code>`)),
    list(requirement.commits.map((commit) => `<code>${escapeHtml(commit.slice(0, 10))}</code>`)),
    list(
      requirement.tests.map(
        (test) =>
          `<span class="${test.outcome === 'passed' ? 'pass' : 'fail'}">${escapeHtml(test.outcome)}</span> ${escapeHtml(test.name)}`,
      ),
    ),
    list(
      requirement.gates.map(
        (gate) => `<span class="${gate.verdict}">${escapeHtml(gate.verdict)}</span> ${escapeHtml(gate.gate)}`,
      ),
    ),
    escapeHtml(requirement.why),
  ]);
  return `<h2>Requirements</h2>\n${table('Each requirement, the tasks and commits that built it, and the tests and gates that prove it', ['requirement', 'proven', 'tasks', 'commits', 'tests', 'gates', 'why'], rows)}`;
}

function gatesSection(document: EvidenceDocument): string {
  const rows = document.gates.map((gate) => [
    escapeHtml(gate.gate),
    `<span class="${gate.verdict}">${escapeHtml(gate.verdict)}</span>`,
    escapeHtml(gate.reason),
    gate.evidence.command === null
      ? '—'
      : `<code>${escapeHtml(gate.evidence.command)}</code> exit ${escapeHtml(String(gate.evidence.exitCode ?? '—'))}`,
  ]);
  return `<h2>Gates</h2>\n${rows.length === 0 ? '<p class="muted">No gate ran.</p>' : table('The gates, their verdicts and the commands they ran', ['gate', 'verdict', 'reason', 'command'], rows)}`;
}

function findingsSection(document: EvidenceDocument): string {
  const rows = document.reviewFindings.map((finding) => [
    escapeHtml(finding.severity),
    `<code>${escapeHtml(finding.taskId)}</code> round ${finding.round}, ${escapeHtml(finding.reviewer)}`,
    `<code>${escapeHtml(`${finding.file}:${finding.line}`)}</code>`,
    escapeHtml(finding.message),
    `<span class="${finding.isResolved ? 'pass' : 'fail'}">${escapeHtml(finding.resolution)}</span>`,
  ]);
  return `<h2>Review findings</h2>\n${rows.length === 0 ? '<p class="muted">No review finding was reported.</p>' : table('Every finding of the blind reviewers and how it was resolved', ['severity', 'task', 'where', 'finding', 'resolution'], rows)}`;
}

function notProvenSection(document: EvidenceDocument): string {
  return `<h2>Not proven</h2>\n${document.notProven.length === 0 ? '<p class="pass">Everything is proven.</p>' : list(document.notProven.map(escapeHtml))}`;
}
