import type { DoctorCheck, DoctorReport } from './run-doctor.ts';

/**
 * One line per check with a mark in front, then the fix indented under anything that is not ok,
 * then a one-line verdict. `✗` is reserved for required checks so a failing run is easy to scan.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const nameWidth = Math.max(...report.checks.map((check) => check.name.length));
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${markFor(check)} ${check.name.padEnd(nameWidth)}  ${check.detail}`);
    if (check.fix !== undefined) lines.push(`  ${' '.repeat(nameWidth)}  fix: ${check.fix}`);
  }
  lines.push('', verdict(report));
  return `${lines.join('\n')}\n`;
}

function markFor(check: DoctorCheck): string {
  if (check.status === 'ok') return '✓';
  return check.isRequired ? '✗' : '!';
}

function verdict(report: DoctorReport): string {
  const failedRequired = report.checks.filter((check) => check.isRequired && check.status !== 'ok');
  if (failedRequired.length > 0) {
    const names = failedRequired.map((check) => check.name).join(', ');
    return `Required checks failed: ${names}. Apply the fixes above and run \`loki doctor\` again.`;
  }
  const optionalCount = report.checks.filter((check) => check.status !== 'ok').length;
  return optionalCount === 0
    ? 'All checks passed.'
    : `All required checks passed; ${optionalCount} optional item${optionalCount === 1 ? '' : 's'} not available (see above).`;
}
