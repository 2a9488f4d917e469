import { Command, CommanderError } from 'commander';
import { systemClock } from '../clock/index.ts';
import { ExitCode, isLokiError } from '../errors/index.ts';
import { createRedactor } from '../sandbox/redactor.ts';
import type { CliContext } from './cli-context.ts';
import { registerAgentsCommand } from './commands/agents.ts';
import { registerAlertCommands } from './commands/alert.ts';
import { registerCodexToolGuardCommand } from './commands/codex-tool-guard.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerControlCommands } from './commands/control.ts';
import { registerDashboardCommand } from './commands/dashboard.ts';
import { registerDeployTargetsCommand } from './deploy-targets-command.ts';
import { registerDeployCommands } from './commands/deploy.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerExportCommands } from './commands/export.ts';
import { registerInitCommand } from './commands/init.ts';
import { registerMcpCommand } from './commands/mcp.ts';
import { registerMcpToolsCommand } from './commands/mcp-tools.ts';
import { registerQueueCommands } from './commands/queue.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerRunCommands } from './commands/run.ts';
import { registerSkillCommands } from './commands/skill.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTaskCommands } from './commands/task.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { registerWorkerCommand } from './commands/worker.ts';
import { registerWorkersCommand } from './commands/workers.ts';
import { LOKI_VERSION } from './version.ts';

export function buildProgram(context: CliContext): Command {
  const program = new Command('loki')
    .description('Loki Mode: a PRD in, a built, tested, reviewed and deployed product out.')
    .version(LOKI_VERSION, '-v, --version', 'print the version')
    .option(
      '-c, --config <key=value>',
      'override a configuration value for this command (repeatable), e.g. -c maxParallelAgents=4',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--store <url>',
      'keep the store in PostgreSQL at postgres://USER:PASSWORD@HOST:PORT/DATABASE (same as -c store=URL; default: .loki/loki.db)',
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => context.stdout(text),
      writeErr: (text) => context.stderr(text),
      // Commander's messages become one line in Loki's error format: "loki: <problem> (<hint>)".
      outputError: (text, write) => {
        const message = text
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*/g, ' ');
        write(`loki: ${message}${message.includes('Did you mean') ? '' : ' (see loki --help)'}\n`);
      },
    })
    .exitOverride();
  registerInitCommand(program, context);
  registerRunCommands(program, context);
  registerWorkerCommand(program, context);
  registerControlCommands(program, context);
  registerStatusCommand(program, context);
  registerDashboardCommand(program, context);
  registerReportCommand(program, context);
  registerQueueCommands(program, context);
  registerTaskCommands(program, context);
  registerAgentsCommand(program, context);
  registerWorkersCommand(program, context);
  registerConfigCommands(program, context);
  registerDoctorCommand(program, context);
  registerVerifyCommand(program, context);
  registerDeployCommands(program, context);
  registerMcpCommand(program, context);
  registerMcpToolsCommand(program, context);
  registerSkillCommands(program, context);
  registerCodexToolGuardCommand(program, context);
  registerDeployTargetsCommand(program, context);
  registerAlertCommands(program, context);
  registerExportCommands(program, context);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit itself. */
export async function runCli(argv: readonly string[], unredactedContext: CliContext): Promise<number> {
  const context = redactingContext(unredactedContext);
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (error.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    if (isLokiError(error)) {
      context.stderr(`loki: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    context.stderr(`loki: internal error: ${message}\n`);
    return ExitCode.error;
  }
}

/**
 * Everything the CLI prints passes a redactor built from its environment, so the values of the
 * configured keys never reach the terminal, whatever error or event text quotes them.
 */
function redactingContext(context: CliContext): CliContext {
  const redactor = createRedactor({ env: context.env });
  return {
    ...context,
    stdout: (text) => context.stdout(redactor.redact(text)),
    stderr: (text) => context.stderr(redactor.redact(text)),
  };
}

export function processContext(): CliContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    clock: systemClock,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    ...(process.stdout.isTTY
      ? {
          terminal: {
            columns: () => process.stdout.columns || 80,
            rows: () => process.stdout.rows || 24,
          },
        }
      : {}),
    exitCode: ExitCode.ok,
  };
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe (`loki run … | head`) must not kill a run halfway: output is dropped, work goes on.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  const exitCode = await runCli(argv, processContext());
  process.exitCode = exitCode;
}

if (import.meta.main) await main();
