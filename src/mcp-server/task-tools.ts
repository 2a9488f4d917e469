import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import {
  type AppContext,
  addTask,
  cancelTask,
  listTasks,
  prioritizeTask,
  retryTask,
  showTask,
} from '../app/index.ts';
import { projectTask } from '../workspace/index.ts';
import { toolAnswer } from './tool-answer.ts';

const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'dead_letter', 'cancelled'] as const;

const taskId = z.string().min(1).max(128).describe('the task id, as list_tasks shows it');
const priority = z.int().min(1).max(10).describe('1–10, 10 is critical');

/**
 * The task queue: reading it, and the changes a person may make to it while a run goes on (the run
 * sees them at its next claim, a cancelled task's agent stops within a second).
 */
export function registerTaskTools(server: McpServer, context: AppContext): void {
  server.registerTool(
    'list_tasks',
    {
      title: 'List Loki Mode tasks',
      description: 'The workspace’s tasks, oldest first, optionally only some statuses or one agent type.',
      inputSchema: {
        statuses: z.array(z.enum(TASK_STATUSES)).min(1).optional().describe('only tasks in these statuses'),
        type: z.string().min(1).optional().describe('only tasks for this agent type, e.g. eng-backend'),
        limit: z.int().min(1).max(1000).default(200).describe('at most this many tasks'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ statuses, type, limit }) =>
      toolAnswer(async () => {
        const tasks = await listTasks(context, {
          ...(statuses === undefined ? {} : { statuses }),
          ...(type === undefined ? {} : { type }),
          limit,
        });
        return { summary: `${tasks.length} task(s).`, data: { tasks: tasks.map(projectTask) } };
      }),
  );

  server.registerTool(
    'show_task',
    {
      title: 'Show a Loki Mode task',
      description: 'One task with its description and its history (events, oldest first).',
      inputSchema: { taskId },
      annotations: { readOnlyHint: true },
    },
    ({ taskId: id }) =>
      toolAnswer(async () => {
        const { task, events } = await showTask(context, id);
        return {
          summary: `${task.id} is ${task.status}: ${task.title}`,
          data: {
            task: { ...projectTask(task), description: task.description },
            events: events.map((event) => ({ ...event, createdAt: new Date(event.createdAt).toISOString() })),
          },
        };
      }),
  );

  server.registerTool(
    'add_task',
    {
      title: 'Add a Loki Mode task',
      description:
        'Add a task to the queue; a live run picks it up by priority once its dependencies are done.',
      inputSchema: {
        title: z.string().min(1).describe('what to do, in one line'),
        type: z
          .string()
          .min(1)
          .describe('the agent type that should do it, e.g. eng-backend, eng-frontend, eng-qa'),
        description: z.string().optional().describe('details and acceptance criteria'),
        priority: priority.optional(),
        dependsOn: z.array(taskId).optional().describe('task ids that must complete first'),
      },
    },
    (input) =>
      toolAnswer(async () => {
        const task = await addTask(context, {
          title: input.title,
          type: input.type,
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.priority === undefined ? {} : { priority: input.priority }),
          ...(input.dependsOn === undefined ? {} : { dependencies: input.dependsOn }),
        });
        return { summary: `Added ${task.id} (priority ${task.priority}).`, data: projectTask(task) };
      }),
  );

  server.registerTool(
    'retry_task',
    {
      title: 'Retry a Loki Mode task',
      description:
        'Bring a dead-lettered, failed or cancelled task back to pending with a fresh attempt budget.',
      inputSchema: { taskId },
    },
    ({ taskId: id }) =>
      toolAnswer(async () => {
        const task = await retryTask(context, id);
        return { summary: `Retrying ${task.id}: back to pending.`, data: projectTask(task) };
      }),
  );

  server.registerTool(
    'cancel_task',
    {
      title: 'Cancel a Loki Mode task',
      description:
        'Cancel a task that has not completed, and every task waiting on it (a running agent stops within a second).',
      inputSchema: { taskId, reason: z.string().optional().describe("why, kept as the task's last error") },
      annotations: { destructiveHint: true },
    },
    ({ taskId: id, reason }) =>
      toolAnswer(async () => {
        const { task, dependents } = await cancelTask(context, id, reason ?? null);
        const alsoCancelled = dependents.map((dependent) => dependent.id);
        return {
          summary: `Cancelled ${task.id}${alsoCancelled.length === 0 ? '' : ` and ${alsoCancelled.join(', ')}`}.`,
          data: { ...projectTask(task), alsoCancelled },
        };
      }),
  );

  server.registerTool(
    'prioritize_task',
    {
      title: 'Re-prioritise a Loki Mode task',
      description: 'Give a task a new priority (1–10, 10 is critical); a live run sees it at its next claim.',
      inputSchema: { taskId, priority },
    },
    ({ taskId: id, priority: newPriority }) =>
      toolAnswer(async () => {
        const task = await prioritizeTask(context, id, newPriority);
        return { summary: `${task.id} now has priority ${task.priority}.`, data: projectTask(task) };
      }),
  );
}
