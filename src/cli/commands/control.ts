import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { PauseOrContinueResult, StopRunResult } from '../../app/index.ts';
import { parseWholeNumberOption } from '../../app/parse-whole-number.ts';
import { workspacePaths } from '../../workspace/workspace-paths.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { openCliWorkspace } from '../open-cli-workspace.ts';

// Loaded by a function of its own: TypeScript leaves the `.ts` of an import() written inside a
// function that declares `await using` in the built code, where no .ts file exists.
const loadRunControl = () => import('../../app/run-control.ts');

interface JsonOption {
  json?: boolean;
}

/** `loki stop`, `loki pause`, `loki continue`: requests to the live run, from any terminal. */
export function registerControlCommands(program: Command, context: CliContext): void {
  program
    .command('stop')
    .description('stop the live run of this workspace gracefully, from any terminal (like Ctrl-C in its own)')
    .option('--timeout <seconds>', 'how long to wait for it to stop', '120')
    .option('--json', 'print the result as JSON')
    .action(async (flags: JsonOption & { timeout: string }, command: Command) => {
      const timeoutSeconds = parseWholeNumberOption(flags.timeout, '--timeout', 3600);
      // Nothing runs where there is no workspace: as stopped as can be (scripts may stop blindly).
      if (!existsSync(workspacePaths(context.cwd).database)) {
        printStop(context, flags, { stopped: false, runId: null, status: null, reason: 'no_run' });
        return;
      }
      const { stopRun } = await loadRunControl();
      await using workspace = await openCliWorkspace(command, context);
      const result = await stopRun({
        workspace,
        requestedBy: 'cli',
        clock: context.clock,
        timeoutMilliseconds: timeoutSeconds * 1000,
        onRequested: ({ runId, pid, isChanged }) => {
          if (flags.json === true) return;
          context.stdout(
            isChanged
              ? `Asked run ${runId} (pid ${pid}) to stop; waiting for its agents to wind down…\n`
              : `Run ${runId} (pid ${pid}) is already stopping; waiting for it to end…\n`,
          );
        },
      });
      printStop(context, flags, result);
    });

  program
    .command('pause')
    .description('pause the live run: no new task starts; agents at work finish theirs (loki continue)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: JsonOption, command: Command) => {
      const { pauseRun } = await loadRunControl();
      await using workspace = await openCliWorkspace(command, context);
      printSteering(context, flags, await pauseRun({ workspace, requestedBy: 'cli' }));
    });

  program
    .command('continue')
    .description('let a paused live run start tasks again')
    .option('--json', 'print the result as JSON')
    .action(async (flags: JsonOption, command: Command) => {
      const { continueRun } = await loadRunControl();
      await using workspace = await openCliWorkspace(command, context);
      printSteering(context, flags, await continueRun({ workspace, requestedBy: 'cli' }));
    });
}

function printStop(context: CliContext, flags: JsonOption, result: StopRunResult): void {
  if (flags.json === true) writeJson(context, result);
  else context.stdout(`${describeStop(result)}\n`);
}

function describeStop(result: StopRunResult): string {
  if (!result.stopped) {
    switch (result.reason) {
      case 'no_run':
        return 'No run is active in this workspace.';
      case 'ended':
        return `No run is active in this workspace (run ${result.runId ?? '?'} is ${result.status ?? 'ended'}).`;
      case 'process_gone':
        return `No run is active in this workspace: the process of run ${result.runId ?? '?'} is gone (a crash, kill -9 or a forced stop); loki resume continues it.`;
    }
  }
  switch (result.status) {
    case 'stopped':
      return `Run ${result.runId} stopped. loki resume continues it.`;
    case 'running':
      return `The process of run ${result.runId} ended without recording its end; loki resume continues it.`;
    default:
      return `Run ${result.runId} ended before it could stop: ${result.status}. See loki status.`;
  }
}

function printSteering(context: CliContext, flags: JsonOption, result: PauseOrContinueResult): void {
  if (flags.json === true) {
    writeJson(context, result);
    return;
  }
  const count = result.tasksInProgress;
  const atWork =
    count === 0
      ? ''
      : `; the ${count} task${count === 1 ? '' : 's'} in progress finish${count === 1 ? 'es' : ''} first`;
  const text =
    result.action === 'pause'
      ? result.isChanged
        ? `Paused run ${result.runId}: no new task starts${atWork}. loki continue lets it go on.`
        : `Run ${result.runId} is already paused; loki continue lets it go on.`
      : result.isChanged
        ? `Continued run ${result.runId}: tasks start again.`
        : `Run ${result.runId} is not paused; it goes on.`;
  context.stdout(`${text}\n`);
}
