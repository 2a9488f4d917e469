import type { Command } from 'commander';
import { usageError } from '../../errors/index.ts';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_PRIORITY, DEFAULT_TIMEOUT_SECONDS } from '../../queue/task-queue.ts';
import type { Task, TaskStatus } from '../../store/index.ts';
import { projectTask } from '../../workspace/write-projections.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { formatTable, sanitizeForTerminal, truncate } from '../terminal-text.ts';

interface JsonOption {
  json?: boolean;
}

interface AddOptions extends JsonOption {
  type: string;
  description?: string;
  priority?: string;
  dependsOn?: string[];
  payload?: string;
  idempotencyKey?: string;
  timeout?: string;
  maxAttempts?: string;
  id?: string;
}

interface ListOptions extends JsonOption {
  status?: string;
  type?: string;
  limit?: string;
}

const STATUS_ALIASES: Record<string, TaskStatus> = {
  pending: 'pending',
  'in-progress': 'in_progress',
  in_progress: 'in_progress',
  completed: 'completed',
  failed: 'failed',
  'dead-letter': 'dead_letter',
  dead_letter: 'dead_letter',
  cancelled: 'cancelled',
};

function parseWholeNumber(value: string, option: string, minimum: number, maximum: number): number {
  const parsed = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < minimum || parsed > maximum) {
    throw usageError(
      'CLI_INVALID_OPTION',
      `${option} must be a whole number from ${minimum} to ${maximum}, got "${value}"`,
    );
  }
  return parsed;
}

function parseStatuses(value: string): TaskStatus[] {
  return value.split(',').map((name) => {
    const status = STATUS_ALIASES[name.trim()];
    if (status === undefined) {
      throw usageError(
        'CLI_INVALID_OPTION',
        `unknown status "${name}"; use one or more of ${Object.keys(STATUS_ALIASES)
          .filter((alias) => !alias.includes('_'))
          .join(', ')} (comma-separated)`,
      );
    }
    return status;
  });
}

function parsePayload(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw usageError('CLI_INVALID_OPTION', `--payload must be JSON: ${(error as Error).message}`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== ''),
  ];
}

function printTask(context: CliContext, task: Task): void {
  const projected = projectTask(task);
  const lines = Object.entries({ ...projected, description: task.description }).map(([key, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `${key.padEnd(15)} ${sanitizeForTerminal(text ?? 'null')}`;
  });
  context.stdout(`${lines.join('\n')}\n`);
}

function printChange(context: CliContext, options: JsonOption, task: Task, summary: string): void {
  if (options.json === true) writeJson(context, projectTask(task));
  else context.stdout(`${sanitizeForTerminal(summary)}\n`);
}

export function registerQueueCommands(program: Command, context: CliContext): void {
  const queue = program.command('queue').description('inspect and change the task queue');

  queue
    .command('list')
    .description('list tasks (oldest first)')
    .option(
      '--status <statuses>',
      'only these statuses, comma-separated: pending, in-progress, completed, failed, dead-letter, cancelled',
    )
    .option('--type <agent-type>', 'only tasks for this agent type')
    .option('--limit <n>', 'at most n tasks')
    .option('--json', 'print {"tasks": [...]} as JSON')
    .action(async (options: ListOptions, command: Command) => {
      const statuses = options.status === undefined ? undefined : parseStatuses(options.status);
      const limit =
        options.limit === undefined ? undefined : parseWholeNumber(options.limit, '--limit', 1, 1_000_000);
      const { listTasks } = await import('../../app/read-queue.ts');
      const tasks = await listTasks(appContextOf(command, context), {
        ...(statuses === undefined ? {} : { statuses }),
        ...(options.type === undefined ? {} : { type: options.type }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (options.json === true) {
        writeJson(context, { tasks: tasks.map(projectTask) });
        return;
      }
      if (tasks.length === 0) {
        context.stdout('No tasks.\n');
        return;
      }
      context.stdout(
        formatTable(
          ['ID', 'STATUS', 'PRI', 'TYPE', 'TRIES', 'TITLE'],
          tasks.map((task) => [
            task.id,
            task.status.replace('_', '-'),
            String(task.priority),
            task.type,
            `${task.failureCount}/${task.maxAttempts}`,
            truncate(task.title, 80),
          ]),
        ),
      );
    });

  queue
    .command('add')
    .description('add a task')
    .argument('<title>', 'what to do, in one line')
    .requiredOption('--type <agent-type>', 'the agent type that should do it, e.g. eng-backend')
    .option('--description <text>', 'details and acceptance criteria')
    .option('--priority <1-10>', `10 is critical (default ${DEFAULT_PRIORITY})`)
    .option(
      '--depends-on <ids>',
      'task ids that must complete first (comma-separated, repeatable)',
      collect,
      [],
    )
    .option('--payload <json>', 'extra data for the agent, as JSON')
    .option('--idempotency-key <key>', 'refuse to add the task twice under this key')
    .option('--timeout <seconds>', `how long one attempt may take (default ${DEFAULT_TIMEOUT_SECONDS})`)
    .option('--max-attempts <n>', `attempts before dead letter (default ${DEFAULT_MAX_ATTEMPTS})`)
    .option('--id <id>', 'choose the task id instead of a generated one')
    .option('--json', 'print the new task as JSON')
    .action(async (title: string, options: AddOptions, command: Command) => {
      // Parse everything before opening the store: bad input must not touch the workspace.
      const priority =
        options.priority === undefined ? undefined : parseWholeNumber(options.priority, '--priority', 1, 10);
      const timeoutSeconds =
        options.timeout === undefined
          ? undefined
          : parseWholeNumber(options.timeout, '--timeout', 1, 7 * 24 * 3600);
      const maxAttempts =
        options.maxAttempts === undefined
          ? undefined
          : parseWholeNumber(options.maxAttempts, '--max-attempts', 1, 1000);
      const payload = options.payload === undefined ? undefined : parsePayload(options.payload);
      const { addTask } = await import('../../app/change-queue.ts');
      const task = await addTask(appContextOf(command, context), {
        type: options.type,
        title,
        ...(options.id === undefined ? {} : { id: options.id }),
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(priority === undefined ? {} : { priority }),
        ...(options.dependsOn === undefined ? {} : { dependencies: options.dependsOn }),
        ...(payload === undefined ? {} : { payload }),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
      });
      printChange(
        context,
        options,
        task,
        `Added ${task.id} (priority ${task.priority}, ${task.type}): ${task.title}`,
      );
    });

  queue
    .command('show')
    .description('show one task and its history')
    .argument('<id>', 'task id')
    .option('--json', 'print {"task": ..., "events": [...]} as JSON')
    .action(async (taskId: string, options: JsonOption, command: Command) => {
      const { showTask } = await import('../../app/read-queue.ts');
      const { task, events } = await showTask(appContextOf(command, context), taskId);
      if (options.json === true) {
        writeJson(context, {
          task: { ...projectTask(task), description: task.description },
          events: events.map((event) => ({ ...event, createdAt: new Date(event.createdAt).toISOString() })),
        });
        return;
      }
      printTask(context, task);
      context.stdout('\nHistory:\n');
      for (const event of events) {
        context.stdout(
          `  ${new Date(event.createdAt).toISOString()}  ${event.type.padEnd(20)} ${sanitizeForTerminal(JSON.stringify(event.data))}\n`,
        );
      }
    });

  queue
    .command('retry')
    .description(
      'bring a dead-lettered, failed or cancelled task back to pending with a fresh attempt budget',
    )
    .argument('<id>', 'task id')
    .option('--json', 'print the task as JSON')
    .action(async (taskId: string, options: JsonOption, command: Command) => {
      const { retryTask } = await import('../../app/change-queue.ts');
      const task = await retryTask(appContextOf(command, context), taskId);
      printChange(
        context,
        options,
        task,
        `Retrying ${task.id}: back to pending (${task.maxAttempts} attempts)`,
      );
    });

  queue
    .command('cancel')
    .description(
      'cancel a task that has not completed, and every task waiting on it (a running agent stops within a second)',
    )
    .argument('<id>', 'task id')
    .option('--reason <text>', "why, kept as the task's last error")
    .option('--json', 'print the task as JSON, with the ids of the tasks cancelled with it')
    .action(async (taskId: string, options: JsonOption & { reason?: string }, command: Command) => {
      const { cancelTask } = await import('../../app/change-queue.ts');
      const { task, dependents } = await cancelTask(
        appContextOf(command, context),
        taskId,
        options.reason ?? null,
      );
      if (options.json === true) {
        writeJson(context, {
          ...projectTask(task),
          alsoCancelled: dependents.map((dependent) => dependent.id),
        });
        return;
      }
      const withIt =
        dependents.length === 0
          ? ''
          : `, and with it what waits on it: ${dependents.map((dependent) => dependent.id).join(', ')}`;
      context.stdout(`${sanitizeForTerminal(`Cancelled ${task.id}${withIt}`)}\n`);
    });

  queue
    .command('prioritize')
    .description('change the priority of a task (1–10, 10 is critical)')
    .argument('<id>', 'task id')
    .argument('<priority>', 'new priority, 1–10')
    .option('--json', 'print the task as JSON')
    .action(async (taskId: string, priorityText: string, options: JsonOption, command: Command) => {
      const priority = parseWholeNumber(priorityText, 'priority', 1, 10);
      const { prioritizeTask } = await import('../../app/change-queue.ts');
      const task = await prioritizeTask(appContextOf(command, context), taskId, priority);
      printChange(context, options, task, `${task.id} now has priority ${task.priority}`);
    });
}
