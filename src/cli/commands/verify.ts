import type { Command } from 'commander';
import { parseWholeNumberOption } from '../../app/parse-whole-number.ts';
import type { GateResult } from '../../gates/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

const MARK = { pass: '✓', fail: '✗', 'not-proven': '?' } as const;

export function registerVerifyCommand(program: Command, context: CliContext): void {
  program
    .command('verify')
    .description(
      "run the quality gates on this directory without any agent: the project's tests (at least one must run), lint, types",
    )
    .option(
      '--gate <name...>',
      'only these gates (unit-tests, coverage, integration-tests, e2e-tests, lint, types, security, audit, legal, performance, load, chaos, accessibility)',
    )
    .option('--timeout <seconds>', 'most seconds one gate may take', '600')
    .option(
      '--json',
      'print {"headline", "results": [{"gate", "verdict", "reason", "evidence"}], "reportPaths"}',
    )
    .addHelpText(
      'after',
      [
        '',
        'Each gate gives pass, fail or not-proven (with the reason: not applicable, tool missing).',
        'Commands run in the sandbox without network (the audit through sandbox.network). The evidence report is written to',
        '.loki/artifacts/reports/verify-<time>.{json,md,html}; with Loki requirements (.loki/specs/requirements.json) here, it',
        'traces each to the passing tests that name its ID and the gates that cover it (PRD proven: N/M).',
        'Exit code 0 only when every gate passed and every requirement is proven (VERIFIED); 3 otherwise.',
      ].join('\n'),
    )
    .action(async (options: { gate?: string[]; timeout: string; json?: boolean }, command: Command) => {
      const timeoutSeconds = parseWholeNumberOption(options.timeout, '--timeout', 86_400);
      const json = options.json === true;
      const { verifyProject } = await import('../../app/verify-project.ts');
      const outcome = await verifyProject(appContextOf(command, context), {
        gates: options.gate ?? [],
        timeoutSeconds,
        ...(json ? {} : { onResult: (result: GateResult) => context.stdout(`${describeResult(result)}\n`) }),
        onWarning: (text) => context.stderr(`loki: warning: ${sanitizeForTerminal(text)}\n`),
      });
      if (json) writeJson(context, outcome);
      else {
        const prd = outcome.evidence.prd;
        const coverage = prd === null ? '' : ` — PRD proven: ${prd.proven}/${prd.total} (${prd.percent} %)`;
        context.stdout(`${outcome.headline}${coverage} — evidence: ${outcome.reportPaths.markdown}\n`);
      }
      context.exitCode = outcome.evidence.exitCode;
    });
}

function describeResult(result: GateResult): string {
  return sanitizeForTerminal(`${MARK[result.verdict]} ${result.gate}: ${result.verdict} — ${result.reason}`);
}
