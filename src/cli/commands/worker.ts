import type { Command } from 'commander';
import type { WorkerResult } from '../../app/index.ts';
import { ExitCode } from '../../errors/index.ts';
import type { CliContext } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

interface WorkerFlags {
  repo: string;
  dir?: string;
  parallel?: string;
  types?: string;
  json?: boolean;
}

const STOPPING =
  'Stopping: agents are signalled and their tasks go back to the queue (Ctrl-C again to force)…';

export function registerWorkerCommand(program: Command, context: CliContext): void {
  program
    .command('worker')
    .description(
      'work on the run in a shared PostgreSQL store from this machine: claims tasks, merges through the run’s coordinator',
    )
    .requiredOption('--repo <git-url>', 'the run’s shared git remote (the one loki run --repo names)')
    .option(
      '--dir <directory>',
      'this worker’s own clone of the remote (default: ./loki-worker; cloned when absent)',
    )
    .option('--parallel <n>', 'agents working at once (default: LOKI_MAX_PARALLEL_AGENTS)')
    .option('--types <a,b>', 'only claim tasks of these agent types (comma-separated)')
    .option('--json', 'print one JSON line per task outcome, then the worker’s result')
    .action(async (flags: WorkerFlags, command: Command) => {
      await executeWorker(context, command, flags);
    });
}

async function executeWorker(context: CliContext, command: Command, flags: WorkerFlags): Promise<void> {
  const { runWorker } = await import('../../app/run-worker.ts');
  const json = flags.json === true;
  const say = (text: string) => {
    if (!json) context.stdout(sanitizeForTerminal(text));
  };
  const line = (value: object) => {
    if (json) context.stdout(`${JSON.stringify(value)}\n`);
  };
  const stop = new AbortController();
  const interrupt = () => {
    if (stop.signal.aborted) {
      context.stderr('loki: forced stop; the tasks this worker held come back when their leases expire\n');
      process.exit(ExitCode.interrupted);
    }
    say(`\n${STOPPING}\n`);
    stop.abort(new Error('stopped by the user'));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let result: WorkerResult;
  try {
    const types = flags.types
      ?.split(',')
      .map((type) => type.trim())
      .filter((type) => type !== '');
    result = await runWorker(
      appContextOf(command, context),
      {
        repoUrl: flags.repo,
        stopSignal: stop.signal,
        ...(flags.dir === undefined ? {} : { directory: flags.dir }),
        ...(flags.parallel === undefined ? {} : { parallel: flags.parallel }),
        ...(types === undefined || types.length === 0 ? {} : { types }),
      },
      {
        started: (start) => {
          say(`Worker ${start.workerId} in ${start.directory}, store ${start.store}: waiting for a run…\n`);
          line({ type: 'worker.started', ...start });
        },
        serving: (serving) => {
          say(
            `Working on run ${serving.runId}\n  settings: ${serving.settings}\n  model: ${serving.model}; up to ${serving.parallel} agent${serving.parallel === 1 ? '' : 's'}\n`,
          );
          line({ type: 'worker.serving', ...serving });
        },
        taskEnded: (ended) => {
          say(`  ${ended.outcome === 'merged' ? '✓' : '·'} ${ended.taskId}: ${ended.outcome}\n`);
          line({ type: 'worker.task_ended', ...ended });
        },
        warning: (text) => context.stderr(`loki: warning: ${text}\n`),
      },
    );
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
  context.exitCode = stop.signal.aborted ? ExitCode.interrupted : ExitCode.ok;
  line({ type: 'worker.ended', ...result });
  say(
    result.kind === 'run_ended'
      ? `Run ${result.runId} ended (${result.status}); this worker merged ${result.merged} task(s).\n`
      : `Stopped; this worker merged ${result.merged} task(s), its other tasks went back to the queue.\n`,
  );
}
