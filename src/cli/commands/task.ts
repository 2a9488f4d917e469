import type { Command } from 'commander';
import { parseWholeNumberOption } from '../../app/parse-whole-number.ts';
import type { NewEvent } from '../../events/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { describeSecretFiles, sanitizeForTerminal, truncate } from '../terminal-text.ts';

interface TaskRunOptions {
  type: string;
  verify?: string;
  description?: string;
  provider?: string;
  script?: string;
  model?: string;
  budget?: string;
  maxAttempts: string;
  maxSteps: string;
  json?: boolean;
}

export function registerTaskCommands(program: Command, context: CliContext): void {
  const task = program.command('task').description('run one agent on one task');
  task
    .command('run')
    .description(
      'run one agent on the current workspace in a fresh worktree; the harness verifies and checkpoints',
    )
    .argument('<what>', 'what to do, in one line')
    .option('--type <agent-type>', 'agent type', 'eng-backend')
    .option(
      '--verify <command>',
      "command the harness runs to verify the work (exit 0 = verified); default: the project's gates",
    )
    .option('--description <text>', 'details and acceptance criteria')
    .option(
      '--provider <name>',
      'anthropic | openai | openai-compatible | ollama | claude-code | codex | scripted (default: LOKI_PROVIDER, then auto-detect)',
    )
    .option('--script <file>', "the scripted model's script (JSON or YAML), with --provider scripted")
    .option(
      '--budget <usd>',
      'hard cap on model spend for this task, in USD (default: LOKI_BUDGET_USD; none = no cap)',
    )
    .option('--model <id>', "the model to use instead of the provider's default tier model")
    .option('--max-attempts <n>', 'agent rounds, each ending in a verification, before the task fails', '3')
    .option('--max-steps <n>', 'model calls per round', '50')
    .option('--json', 'print events as NDJSON and a final result object')
    .action(async (what: string, options: TaskRunOptions, command: Command) => {
      const maxAttempts = parseWholeNumberOption(options.maxAttempts, '--max-attempts', 20);
      const maxSteps = parseWholeNumberOption(options.maxSteps, '--max-steps', 1000);
      const { runOneTask } = await import('../../app/run-one-task.ts');
      const controller = new AbortController();
      const interrupt = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', interrupt);
      try {
        const result = await runOneTask(
          appContextOf(command, context),
          {
            title: what,
            agentType: options.type,
            ...(options.description === undefined ? {} : { description: options.description }),
            ...(options.verify === undefined ? {} : { verifyCommand: options.verify }),
            ...(options.provider === undefined ? {} : { provider: options.provider }),
            ...(options.script === undefined ? {} : { script: options.script }),
            ...(options.budget === undefined ? {} : { budget: options.budget }),
            ...(options.model === undefined ? {} : { model: options.model }),
            maxAttempts,
            maxSteps,
            signal: controller.signal,
          },
          {
            started: (start) => {
              if (options.json === true) return;
              context.stdout(
                `Running ${options.type} on "${what}" with ${start.provider} (${start.model}); commands: ${start.commandRunner}\n`,
              );
            },
            event: (event) => {
              if (options.json === true) {
                context.stdout(`${JSON.stringify(event)}\n`);
                return;
              }
              const line = describeEvent(event);
              if (line !== null) context.stdout(`${sanitizeForTerminal(line)}\n`);
            },
            warning: (text) => context.stderr(`loki: warning: ${sanitizeForTerminal(text)}\n`),
          },
        );
        const { cycle } = result;
        if (options.json === true) {
          writeJson(context, {
            taskId: result.task.id,
            outcome: cycle.outcome,
            attempts: cycle.attempts,
            branch: result.worktree.branch,
            checkpointCommit: cycle.checkpointCommit,
            summary: cycle.summary,
            error: cycle.error,
            usage: cycle.usage,
          });
        } else {
          const cost = cycle.usage.isCostKnown
            ? `$${cycle.usage.costUsd.toFixed(4)}`
            : 'unknown (unpriced model)';
          const checkpoint = `checkpoint ${cycle.checkpointCommit ?? '(no changes)'} on ${result.worktree.branch}`;
          context.stdout(
            cycle.outcome === 'verified'
              ? `Verified after ${cycle.attempts} attempt(s): ${checkpoint}. Cost ${cost}.\n`
              : cycle.outcome === 'not_proven'
                ? `Not proven: ${cycle.error ?? 'nothing verifies it'}. The work is kept (${checkpoint}); check it yourself, or run again with --verify <command>. Cost ${cost}.\n`
                : `Not verified after ${cycle.attempts} attempt(s): ${sanitizeForTerminal(cycle.error ?? cycle.outcome)}. Worktree rolled back. Cost ${cost}.\n`,
          );
        }
        if (cycle.outcome === 'aborted') context.exitCode = 130;
        // Exit 3 "finished but not verified" also for work nothing could verify.
        else if (cycle.outcome !== 'verified') context.exitCode = 3;
      } finally {
        process.removeListener('SIGINT', interrupt);
      }
    });
}

function describeEvent(event: NewEvent): string | null {
  switch (event.type) {
    case 'agent.tool_called':
      return `  → ${event.data.toolName} ${truncate(JSON.stringify(event.data.input), 100)}`;
    case 'agent.tool_result':
      return event.data.isError ? `    ✗ ${truncate(event.data.output.split('\n')[0] ?? '', 120)}` : null;
    case 'agent.retry':
      return `  … retry ${event.data.attempt} in ${Math.round(event.data.delayMilliseconds / 1000)} s (${event.data.reason})`;
    case 'verification.ran':
      return `  verify \`${event.data.command}\`: ${event.data.passed ? 'passed' : `FAILED (exit ${event.data.exitCode ?? '?'})`}`;
    case 'secret.found':
      return `  ✗ secrets in the work, sent back to the agent: ${describeSecretFiles(event.data.files)}`;
    case 'acceptance.tampered':
      return `  ✗ sealed acceptance tests changed, sent back to the agent: ${event.data.changes.map((change) => `${change.path}: ${change.detail}`).join('; ')}`;
    case 'sandbox.refused':
      return `  refused ${event.data.toolName}: ${event.data.reason} (${event.data.detail})`;
    case 'agent.finished':
      return `  agent finished: ${event.data.reason} after ${event.data.steps} steps`;
    default:
      return null;
  }
}
