import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import { parseJsonOrNull } from '../text/index.ts';
import type { VibeKanbanStatus } from './vibe-kanban-status.ts';

/**
 * Vibe Kanban's documented interface for other tools: its local MCP server (`vibe-kanban --mcp`),
 * whose tools answer with JSON text. Only the four tools an export needs are used.
 */
const projectsSchema = z.object({ projects: z.array(z.object({ id: z.string(), name: z.string() })) });
const tasksSchema = z.object({
  tasks: z.array(z.object({ id: z.string(), title: z.string(), status: z.string() })),
});
const createdSchema = z.object({ task_id: z.string() });

export interface VibeKanbanProject {
  id: string;
  name: string;
}

export class VibeKanbanClient implements AsyncDisposable {
  readonly #client: Client;

  private constructor(client: Client) {
    this.#client = client;
  }

  /** Starts the MCP server `command` (no shell) and connects to it over stdio. */
  static async connect(command: readonly string[], env: Record<string, string>): Promise<VibeKanbanClient> {
    const [executable, ...args] = command;
    if (executable === undefined) throw vibeKanbanError('no MCP server command given');
    const client = new Client({ name: 'loki-mode', version: '1.0.0' });
    try {
      await client.connect(new StdioClientTransport({ command: executable, args, env, stderr: 'pipe' }));
    } catch (error) {
      throw vibeKanbanError(
        `cannot start Vibe Kanban's MCP server (${command.join(' ')}): ${error instanceof Error ? error.message : String(error)}. Install Vibe Kanban (npx vibe-kanban) and start it, or name its MCP server with --server`,
        error,
      );
    }
    return new VibeKanbanClient(client);
  }

  async listProjects(): Promise<VibeKanbanProject[]> {
    return answerOf(projectsSchema, await this.#call('list_projects', {}), 'list_projects').projects;
  }

  async listTasks(projectId: string): Promise<{ id: string; title: string; status: string }[]> {
    const answer = await this.#call('list_tasks', { project_id: projectId, limit: 10_000 });
    return answerOf(tasksSchema, answer, 'list_tasks').tasks;
  }

  async createTask(projectId: string, title: string, description: string): Promise<string> {
    const created = await this.#call('create_task', { project_id: projectId, title, description });
    return answerOf(createdSchema, created, 'create_task').task_id;
  }

  async updateTask(
    taskId: string,
    change: { status?: VibeKanbanStatus; description?: string },
  ): Promise<void> {
    await this.#call('update_task', { task_id: taskId, ...change });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#client.close();
  }

  async #call(name: string, args: Record<string, unknown>): Promise<unknown> {
    const result = await this.#client.callTool({ name, arguments: args });
    const content = (result.content ?? []) as { type: string; text?: string }[];
    const text = content.map((block) => block.text ?? '').join('');
    if (result.isError === true) throw vibeKanbanError(`Vibe Kanban refused ${name}: ${text.slice(0, 500)}`);
    const parsed = parseJsonOrNull(text);
    if (parsed === null)
      throw vibeKanbanError(`Vibe Kanban answered ${name} with text that is not JSON: ${text.slice(0, 200)}`);
    return parsed;
  }
}

/** An answer of another shape means a Vibe Kanban version whose interface differs from the documented one. */
function answerOf<T>(schema: z.ZodType<T>, value: unknown, tool: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw vibeKanbanError(
    `Vibe Kanban's ${tool} answered in an unexpected shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}); this Vibe Kanban version's MCP interface differs from the one Loki supports`,
  );
}

function vibeKanbanError(message: string, cause?: unknown): LokiError {
  return new LokiError(message, { code: 'VIBE_KANBAN_FAILED', category: 'user', cause });
}
