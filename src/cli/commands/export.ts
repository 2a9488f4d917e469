import type { Command } from 'commander';
import { DEFAULT_VIBE_KANBAN_SERVER } from '../../export/vibe-kanban-server.ts';
import { usageError } from '../../errors/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

export function registerExportCommands(program: Command, context: CliContext): void {
  const exporter = program.command('export').description('put the run’s tasks into other tools');
  exporter
    .command('vibe-kanban')
    .description('put the workspace’s tasks into a Vibe Kanban project through its MCP server')
    .requiredOption('--project <id-or-name>', 'the Vibe Kanban project to put the tasks in')
    .option(
      '--server <command>',
      `the Vibe Kanban MCP server to start, words separated by spaces, no shell (default: ${DEFAULT_VIBE_KANBAN_SERVER.join(' ')})`,
    )
    .option('--json', 'print {"project", "created", "updated", "notMapped"}')
    .addHelpText(
      'after',
      [
        '',
        'Vibe Kanban must be running. Statuses: pending → todo, in_progress → inprogress, completed → done,',
        'cancelled → cancelled; failed and dead_letter have no Vibe Kanban status (shown as todo and inreview, said).',
        'Each card’s title ends with the Loki task id: exporting again updates those cards instead of adding new ones.',
      ].join('\n'),
    )
    .action(async (options: { project: string; server?: string; json?: boolean }, command: Command) => {
      const server = options.server?.trim().split(/\s+/);
      if (server !== undefined && server[0] === '')
        throw usageError('EXPORT_SERVER_EMPTY', '--server needs a command');
      const { exportToVibeKanban } = await import('../../export/export-to-vibe-kanban.ts');
      const result = await exportToVibeKanban(appContextOf(command, context), {
        project: options.project,
        ...(server === undefined ? {} : { server }),
      });
      if (options.json === true) {
        writeJson(context, result);
        return;
      }
      const lines = [
        `Vibe Kanban project ${result.project.name}: ${result.created.length} task(s) created, ${result.updated.length} updated.`,
        ...result.notMapped.map((line) => `not mapped: ${line}`),
      ];
      context.stdout(sanitizeForTerminal(`${lines.join('\n')}\n`));
    });
}
