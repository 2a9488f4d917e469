import { findAgentType } from '../agents/index.ts';
import type { EnqueueRequest } from '../queue/index.ts';
import type { CancelledTasks, Task } from '../store/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace } from './open-app-workspace.ts';

/*
 * Queue changes are transactions of the store, so they steer a live run from any process: the run
 * claims by priority from the store (a re-prioritised or retried task is seen at its next claim),
 * and a task's worker watches its row for a cancel (CancelWatch). Each change rewrites the
 * projections, so .loki/queue/ and STATUS.txt show it at once.
 */

/** Adds a task (validated by the queue: agent type, title, priority 1–10, dependencies known). */
export async function addTask(context: AppContext, request: EnqueueRequest): Promise<Task> {
  // An unknown agent type is refused before the store is opened.
  findAgentType(request.type);
  await using workspace = await openAppWorkspace(context);
  const task = await workspace.queue.enqueue(request);
  await workspace.refreshProjections();
  return task;
}

/** Brings a dead-lettered, failed or cancelled task back to pending with a fresh attempt budget. */
export async function retryTask(context: AppContext, taskId: string): Promise<Task> {
  await using workspace = await openAppWorkspace(context);
  const task = await workspace.queue.retry(taskId);
  await workspace.refreshProjections();
  return task;
}

/** Cancels a task that has not completed, and every task waiting on it; a working agent stops. */
export async function cancelTask(
  context: AppContext,
  taskId: string,
  reason: string | null,
): Promise<CancelledTasks> {
  await using workspace = await openAppWorkspace(context);
  const cancelled = await workspace.queue.cancel(taskId, reason);
  await workspace.refreshProjections();
  return cancelled;
}

/** Gives a task a new priority (1–10, 10 is critical). */
export async function prioritizeTask(context: AppContext, taskId: string, priority: number): Promise<Task> {
  await using workspace = await openAppWorkspace(context);
  const task = await workspace.queue.prioritize(taskId, priority);
  await workspace.refreshProjections();
  return task;
}
