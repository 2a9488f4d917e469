import type { Command } from 'commander';
import { buildStatusReport, formatStatusText } from '../../workspace/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { runLiveness } from '../../app/index.ts';
import { openCliWorkspace } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

export function registerStatusCommand(program: Command, context: CliContext): void {
  program
    .command('status')
    .description('phase, agents and queue counts of this workspace (the same figures as .loki/STATUS.txt)')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await using workspace = await openCliWorkspace(command, context);
      // Read-only: status never changes the store, so it is safe to run at any time.
      const report = buildStatusReport(workspace.paths.root, await workspace.store.readSummary(), {
        isRunAlive: runLiveness(workspace.paths.root),
      });
      if (options.json === true) writeJson(context, report);
      else context.stdout(sanitizeForTerminal(formatStatusText(report)));
    });
}
