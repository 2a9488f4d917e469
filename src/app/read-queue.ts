import type { LokiEvent } from '../events/index.ts';
import type { Task, TaskFilter } from '../store/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace } from './open-app-workspace.ts';

/** The workspace's tasks, oldest first, filtered by status, type and count. */
export async function listTasks(context: AppContext, filter: TaskFilter = {}): Promise<Task[]> {
  await using workspace = await openAppWorkspace(context);
  return await workspace.queue.list(filter);
}

/** One task and its history (its events, in order). Unknown id: TASK_NOT_FOUND. */
export async function showTask(
  context: AppContext,
  taskId: string,
): Promise<{ task: Task; events: LokiEvent[] }> {
  await using workspace = await openAppWorkspace(context);
  const task = await workspace.queue.get(taskId);
  return { task, events: await workspace.store.listEvents({ taskId }) };
}
