import type { Command } from 'commander';
import { formatStatusText } from '../../workspace/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { readStatus } from '../../app/index.ts';
import { readLiveDashboardUrl } from '../../dashboard/server/index.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

export function registerStatusCommand(program: Command, context: CliContext): void {
  program
    .command('status')
    .description('phase, agents and queue counts of this workspace (the same figures as .loki/STATUS.txt)')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const report = await readStatus(appContextOf(command, context));
      if (options.json === true) writeJson(context, report);
      else {
        context.stdout(sanitizeForTerminal(formatStatusText(report)));
        const dashboardUrl = readLiveDashboardUrl(context.env, context.cwd);
        if (dashboardUrl !== null) context.stdout(`Dashboard: ${dashboardUrl}\n`);
      }
    });
}
