import type { Task, TaskStatus } from '../store/index.ts';

/** The statuses Vibe Kanban's MCP server accepts (its `update_task` tool). */
export type VibeKanbanStatus = 'todo' | 'inprogress' | 'inreview' | 'done' | 'cancelled';

export interface StatusMapping {
  status: VibeKanbanStatus;
  /** Set when Vibe Kanban has no status that means the same: what the board shows instead, and why. */
  approximation: string | null;
}

/**
 * Loki's task statuses on Vibe Kanban's board. Four have an exact column; `failed` (waiting to be
 * retried) and `dead_letter` (out of attempts, needs a person) have none and are approximated.
 */
const MAPPING: Record<TaskStatus, StatusMapping> = {
  pending: { status: 'todo', approximation: null },
  in_progress: { status: 'inprogress', approximation: null },
  completed: { status: 'done', approximation: null },
  cancelled: { status: 'cancelled', approximation: null },
  failed: {
    status: 'todo',
    approximation: 'failed (waiting to be retried) has no Vibe Kanban status; shown as todo',
  },
  dead_letter: {
    status: 'inreview',
    approximation:
      'dead_letter (out of attempts, needs a person) has no Vibe Kanban status; shown as inreview',
  },
};

export function vibeKanbanStatusOf(task: Task): StatusMapping {
  return MAPPING[task.status];
}

/**
 * Fields of a Loki task that a Vibe Kanban task has no place for: written into the description as
 * text, so they are visible but not structured (the board cannot sort or link by them).
 */
export const FIELDS_KEPT_AS_TEXT = ['priority', 'dependencies', 'agent type', 'attempts'] as const;

/** The title carries the Loki id, so a second export finds the card it made and updates it. */
export function vibeKanbanTitleOf(task: Task): string {
  return `${task.title} [${task.id}]`;
}

export function vibeKanbanDescriptionOf(task: Task): string {
  const lines = [
    task.description,
    '',
    `Loki task ${task.id} (exported by loki export vibe-kanban)`,
    `- status in Loki: ${task.status}`,
    `- agent type: ${task.type}`,
    `- priority: ${task.priority} of 10`,
    `- depends on: ${task.dependencies.length === 0 ? 'nothing' : task.dependencies.join(', ')}`,
  ];
  return lines.join('\n');
}
