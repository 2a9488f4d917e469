import type { Command } from 'commander';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

export function registerReportCommand(program: Command, context: CliContext): void {
  program
    .command('report')
    .description(
      'print the report of the latest run (or of --run <id>): outcome, phases, requirements, tasks, spend',
    )
    .option('--run <id>', 'the report of this run instead of the latest')
    .option('--json', 'print the report as JSON (the same as .loki/artifacts/reports/<run id>.json)')
    .action(async (options: { run?: string; json?: boolean }, command: Command) => {
      const { readRunReport } = await import('../../app/read-run-report.ts');
      const found = await readRunReport(appContextOf(command, context), options.run);
      if (options.json === true) writeJson(context, found.report);
      else context.stdout(sanitizeForTerminal(found.markdown));
    });
}
