import type { Command } from 'commander';
import { type CliContext, writeJson } from '../cli-context.ts';
import { parseWholeNumberOption } from '../../app/parse-whole-number.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

interface StatusFlags {
  json?: boolean;
  watch?: boolean;
  interval?: string;
}

export function registerStatusCommand(program: Command, context: CliContext): void {
  program
    .command('status')
    .description('phase, agents and queue counts of this workspace (the same figures as .loki/STATUS.txt)')
    .option('--json', 'print the status as JSON')
    .option('--watch', 'refresh the status in place until Ctrl-C (without a terminal: print each change)')
    .option('--interval <seconds>', 'with --watch: seconds between refreshes (default: 2)')
    .action(async (options: StatusFlags, command: Command) => {
      const appContext = appContextOf(command, context);
      const { readStatus } = await import('../../app/read-status.ts');
      const { formatStatusText } = await import('../../workspace/status-report.ts');
      const { readLiveDashboardUrl } = await import('../../dashboard/server/dashboard-record.ts');
      const readText = async () => {
        const report = await readStatus(appContext);
        if (options.json === true) return `${JSON.stringify(report)}\n`;
        const dashboardUrl = readLiveDashboardUrl(context.env, context.cwd);
        return `${formatStatusText(report)}${dashboardUrl === null ? '' : `Dashboard: ${dashboardUrl}\n`}`;
      };
      if (options.watch === true) {
        await watchUntilInterrupted(context, readText, options.interval);
        return;
      }
      const report = await readStatus(appContext);
      if (options.json === true) writeJson(context, report);
      else {
        context.stdout(sanitizeForTerminal(formatStatusText(report)));
        const dashboardUrl = readLiveDashboardUrl(context.env, context.cwd);
        if (dashboardUrl !== null) context.stdout(`Dashboard: ${dashboardUrl}\n`);
      }
    });
}

/** Ctrl-C (or SIGTERM) ends the watch cleanly, with exit code 0: it is how a watch is meant to end. */
async function watchUntilInterrupted(
  context: CliContext,
  read: () => Promise<string>,
  interval: string | undefined,
): Promise<void> {
  const intervalSeconds = interval === undefined ? 2 : parseWholeNumberOption(interval, '--interval', 3600);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { watchStatus } = await import('../panel/index.ts');
  try {
    await watchStatus({ context, read, intervalSeconds, signal: stop.signal });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
