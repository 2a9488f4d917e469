/**
 * A stand-in for Vibe Kanban's MCP server (`vibe-kanban --mcp`), run as its own process over stdio
 * with the official MCP SDK: the tools an export uses, with the parameters and JSON answers of
 * Vibe Kanban's documented task server (list_projects, list_tasks, create_task, update_task). Its
 * board lives in the JSON file named by its one argument, so a test reads what the export did.
 *
 * Usage: node fake-vibe-kanban-mcp.ts <board.json>
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

export interface FakeBoard {
  projects: { id: string; name: string }[];
  tasks: { id: string; projectId: string; title: string; description: string | null; status: string }[];
  /** Every tool call in order, as the server received it. */
  calls: { tool: string; arguments: Record<string, unknown> }[];
}

const STATUSES = ['todo', 'inprogress', 'inreview', 'done', 'cancelled'] as const;
const boardPath = process.argv[2];
if (boardPath === undefined) throw new Error('usage: fake-vibe-kanban-mcp.ts <board.json>');

const read = (): FakeBoard => JSON.parse(readFileSync(boardPath, 'utf8')) as FakeBoard;
const write = (board: FakeBoard) => writeFileSync(boardPath, JSON.stringify(board, null, 2));
const answer = (value: unknown) => ({
  content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }],
});
const refuse = (error: string) => ({
  content: [{ type: 'text' as const, text: JSON.stringify({ success: false, error }, null, 2) }],
  isError: true,
});

function recorded(tool: string, args: Record<string, unknown>): FakeBoard {
  const board = read();
  board.calls.push({ tool, arguments: args });
  write(board);
  return board;
}

const server = new McpServer({ name: 'vibe-kanban', version: 'fake' });
server.registerTool('list_projects', { description: 'List all the available projects' }, () => {
  const board = recorded('list_projects', {});
  return answer({
    projects: board.projects.map((project) => ({ ...project, created_at: '', updated_at: '' })),
    count: board.projects.length,
  });
});
server.registerTool(
  'list_tasks',
  {
    description: 'List all the task/tickets in a project with optional filtering and execution status.',
    inputSchema: { project_id: z.uuid(), status: z.string().optional(), limit: z.number().int().optional() },
  },
  (args) => {
    const board = recorded('list_tasks', args);
    const tasks = board.tasks
      .filter(
        (task) =>
          task.projectId === args.project_id && (args.status === undefined || task.status === args.status),
      )
      .slice(0, args.limit ?? 50)
      .map((task) => ({
        id: task.id,
        title: task.title,
        status: task.status,
        created_at: '',
        updated_at: '',
      }));
    return answer({
      tasks,
      count: tasks.length,
      project_id: args.project_id,
      applied_filters: { status: args.status ?? null, limit: args.limit ?? 50 },
    });
  },
);
server.registerTool(
  'create_task',
  {
    description: 'Create a new task/ticket in a project.',
    inputSchema: { project_id: z.uuid(), title: z.string(), description: z.string().optional() },
  },
  (args) => {
    const board = recorded('create_task', args);
    if (!board.projects.some((project) => project.id === args.project_id)) return refuse('Project not found');
    const id = randomUUID();
    board.tasks.push({
      id,
      projectId: args.project_id,
      title: args.title,
      description: args.description ?? null,
      status: 'todo',
    });
    write(board);
    return answer({ task_id: id });
  },
);
server.registerTool(
  'update_task',
  {
    description: "Update an existing task/ticket's title, description, or status.",
    inputSchema: {
      task_id: z.uuid(),
      title: z.string().optional(),
      description: z.string().optional(),
      status: z.string().optional(),
    },
  },
  (args) => {
    const board = recorded('update_task', args);
    const task = board.tasks.find((candidate) => candidate.id === args.task_id);
    if (task === undefined) return refuse('Task not found');
    if (args.status !== undefined && !(STATUSES as readonly string[]).includes(args.status)) {
      return refuse(
        `Invalid status '${args.status}'. Valid values: 'todo', 'inprogress', 'inreview', 'done', 'cancelled'`,
      );
    }
    Object.assign(task, {
      ...(args.title === undefined ? {} : { title: args.title }),
      ...(args.description === undefined ? {} : { description: args.description }),
      ...(args.status === undefined ? {} : { status: args.status }),
    });
    write(board);
    return answer({
      task: { id: task.id, title: task.title, description: task.description, status: task.status },
    });
  },
);

await server.connect(new StdioServerTransport());
