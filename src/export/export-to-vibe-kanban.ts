import type { AppContext } from '../app/index.ts';
import { listTasks } from '../app/index.ts';
import { usageError } from '../errors/index.ts';
import { VibeKanbanClient } from './vibe-kanban-client.ts';
import { DEFAULT_VIBE_KANBAN_SERVER } from './vibe-kanban-server.ts';
import {
  FIELDS_KEPT_AS_TEXT,
  vibeKanbanDescriptionOf,
  vibeKanbanStatusOf,
  vibeKanbanTitleOf,
} from './vibe-kanban-status.ts';

export interface VibeKanbanExportRequest {
  /** The Vibe Kanban project, by id or by name. */
  project: string;
  /** The MCP server to start (no shell); default: DEFAULT_VIBE_KANBAN_SERVER. */
  server?: readonly string[];
}

export interface VibeKanbanExportResult {
  project: { id: string; name: string };
  created: { lokiTaskId: string; vibeKanbanTaskId: string; status: string }[];
  updated: { lokiTaskId: string; vibeKanbanTaskId: string; status: string }[];
  /** What the board cannot show as Loki has it, in words. */
  notMapped: string[];
}

/**
 * `loki export vibe-kanban`: every task of the workspace becomes a card of the project, with the
 * closest status; a card made by an earlier export (found by the Loki id in its title) is updated
 * instead of duplicated. Returns what it did and what it could not map.
 */
export async function exportToVibeKanban(
  context: AppContext,
  request: VibeKanbanExportRequest,
): Promise<VibeKanbanExportResult> {
  const tasks = await listTasks(context);
  await using board = await VibeKanbanClient.connect(
    request.server ?? DEFAULT_VIBE_KANBAN_SERVER,
    serverEnvironment(context.env),
  );
  const projects = await board.listProjects();
  const project = projects.find(
    (candidate) => candidate.id === request.project || candidate.name === request.project,
  );
  if (project === undefined) {
    throw usageError(
      'VIBE_KANBAN_PROJECT_NOT_FOUND',
      `no Vibe Kanban project "${request.project}"; its projects: ${projects.map((candidate) => candidate.name).join(', ') || 'none (create one in Vibe Kanban first)'}`,
    );
  }
  const existing = new Map((await board.listTasks(project.id)).map((card) => [card.title, card]));
  const result: VibeKanbanExportResult = { project, created: [], updated: [], notMapped: [] };
  const approximations = new Map<string, string[]>();
  for (const task of tasks) {
    const mapping = vibeKanbanStatusOf(task);
    if (mapping.approximation !== null) {
      approximations.set(mapping.approximation, [
        ...(approximations.get(mapping.approximation) ?? []),
        task.id,
      ]);
    }
    const title = vibeKanbanTitleOf(task);
    const description = vibeKanbanDescriptionOf(task);
    const card = existing.get(title);
    if (card !== undefined) {
      await board.updateTask(card.id, { status: mapping.status, description });
      result.updated.push({ lokiTaskId: task.id, vibeKanbanTaskId: card.id, status: mapping.status });
      continue;
    }
    // create_task takes no status: every new card starts in todo and is moved after.
    const cardId = await board.createTask(project.id, title, description);
    if (mapping.status !== 'todo') await board.updateTask(cardId, { status: mapping.status });
    result.created.push({ lokiTaskId: task.id, vibeKanbanTaskId: cardId, status: mapping.status });
  }
  for (const [approximation, taskIds] of approximations)
    result.notMapped.push(`${approximation}: ${taskIds.join(', ')}`);
  if (tasks.length > 0) {
    result.notMapped.push(
      `${FIELDS_KEPT_AS_TEXT.join(', ')}: Vibe Kanban tasks have no such fields; written into each description as text`,
    );
  }
  return result;
}

/**
 * What the server needs to run (npx: PATH, HOME) and to find the running Vibe Kanban (its
 * documented VIBE_BACKEND_URL, HOST, BACKEND_PORT, PORT, or its port file in the temp directory);
 * never Loki's provider keys.
 */
const SERVER_VARIABLES = [
  'PATH',
  'HOME',
  'TMPDIR',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'VIBE_BACKEND_URL',
  'HOST',
  'BACKEND_PORT',
  'PORT',
];

function serverEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of SERVER_VARIABLES) {
    const value = env[name];
    if (value !== undefined) result[name] = value;
  }
  return result;
}
