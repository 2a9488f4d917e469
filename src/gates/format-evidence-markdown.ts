import { describePrdCoverage, type EvidenceDocument } from './evidence-document.ts';

/** A table cell: pipes escaped, one line. */
export function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

/** The evidence sections every Markdown report shares: PRD coverage, traceability, findings, gaps. */
export function formatEvidenceMarkdownSections(document: EvidenceDocument): string[] {
  const lines = ['## Evidence', '', `**${document.headline}**. ${describePrdCoverage(document.prd)}.`, ''];
  if (document.requirements.length > 0) {
    lines.push(
      '| requirement | proven | tasks | commits | tests | gates | why |',
      '|---|---|---|---|---|---|---|',
    );
    for (const requirement of document.requirements) {
      const tests = requirement.tests.map((test) => `${test.outcome}: ${test.name}`).join('; ');
      const gates = requirement.gates.map((gate) => `${gate.gate} ${gate.verdict}`).join(', ');
      lines.push(
        `| ${requirement.id} ${markdownCell(requirement.title)} | ${requirement.proven ? 'yes' : 'NO'} | ${requirement.tasks.join(', ')} | ${requirement.commits.map((commit) => commit.slice(0, 10)).join(', ')} | ${markdownCell(tests)} | ${markdownCell(gates)} | ${markdownCell(requirement.why)} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Review findings', '');
  if (document.reviewFindings.length === 0) lines.push('No review finding was reported.');
  else {
    lines.push('| severity | task | where | finding | resolution |', '|---|---|---|---|---|');
    for (const finding of document.reviewFindings) {
      lines.push(
        `| ${finding.severity} | ${finding.taskId} (round ${finding.round}, ${finding.reviewer}) | ${markdownCell(`${finding.file}:${finding.line}`)} | ${markdownCell(finding.message)} | ${markdownCell(finding.resolution)} |`,
      );
    }
  }
  lines.push('', '## Not proven', '');
  if (document.notProven.length === 0) lines.push('Everything is proven.');
  for (const item of document.notProven) lines.push(`- ${item}`);
  lines.push('');
  return lines;
}
