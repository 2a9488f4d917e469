import type { Command } from 'commander';
import type { WorkersJson } from '../../app/index.ts';
import { formatAgeSeconds } from '../../workspace/worker-report.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { formatTable, sanitizeForTerminal } from '../terminal-text.ts';

interface WorkersFlags {
  json?: boolean;
  all?: boolean;
}

export function registerWorkersCommand(program: Command, context: CliContext): void {
  program
    .command('workers')
    .description(
      'the Loki processes working on this store, by machine, with their last heartbeat (lost: no heartbeat for three intervals)',
    )
    .option(
      '--json',
      'print {"store": ..., "at": ..., "machines": [{"machine", "workers": [...]}], "stopped"} as JSON',
    )
    .option('--all', 'also list the processes that have stopped')
    .action(async (options: WorkersFlags, command: Command) => {
      const { listWorkers } = await import('../../app/list-workers.ts');
      const report = await listWorkers(appContextOf(command, context), { all: options.all === true });
      if (options.json === true) writeJson(context, report);
      else context.stdout(formatWorkersText(report));
    });
}

function formatWorkersText(report: WorkersJson): string {
  const stoppedNote =
    report.stopped === 0 ||
    report.machines.some((machine) => machine.workers.some((w) => w.state === 'stopped'))
      ? ''
      : ` (${report.stopped} stopped: --all lists them)`;
  const count = report.machines.reduce((sum, machine) => sum + machine.workers.length, 0);
  if (count === 0) {
    return `No Loki process works on the store ${sanitizeForTerminal(report.store)} now${stoppedNote}.\n`;
  }
  const rows = report.machines.flatMap((machine) =>
    machine.workers.map((worker) => [
      machine.machine,
      worker.id,
      worker.role,
      worker.state,
      `${formatAgeSeconds(worker.heartbeatAgeSeconds)} ago`,
      String(worker.parallel),
      worker.types === null ? 'any' : worker.types.join(','),
      worker.tasks.length === 0 ? '–' : worker.tasks.join(','),
    ]),
  );
  const machines = `${report.machines.length} machine${report.machines.length === 1 ? '' : 's'}`;
  return (
    `Workers on ${sanitizeForTerminal(report.store)} (${machines}${stoppedNote}):\n` +
    formatTable(['MACHINE', 'WORKER', 'ROLE', 'STATE', 'HEARTBEAT', 'PARALLEL', 'TYPES', 'TASKS'], rows)
  );
}
