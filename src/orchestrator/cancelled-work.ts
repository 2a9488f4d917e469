import type { Task } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';

/**
 * A cancelled task takes what waits on it along (the store's cancel transition). Tasks of a later
 * phase are only enqueued when their phase starts, after the cancel: this cancels those that wait
 * for a cancelled task, with the same reason, so no phase stalls on work that will not happen.
 * Returns the tasks it cancelled.
 */
export async function cancelTasksWaitingOnCancelled(workspace: Workspace, runId: string): Promise<Task[]> {
  const cancelled: Task[] = [];
  for (;;) {
    const tasks = (await workspace.queue.list()).filter((task) => task.runId === runId);
    const statusOf = new Map(tasks.map((task) => [task.id, task.status]));
    const orphan = tasks.find(
      (task) =>
        task.status !== 'completed' &&
        task.status !== 'cancelled' &&
        task.dependencies.some((dependency) => statusOf.get(dependency) === 'cancelled'),
    );
    const cancelledDependency = orphan?.dependencies.find(
      (dependency) => statusOf.get(dependency) === 'cancelled',
    );
    if (orphan === undefined || cancelledDependency === undefined) return cancelled;
    const result = await workspace.queue.cancel(
      orphan.id,
      `cancelled with ${cancelledDependency}, which it waits for`,
    );
    cancelled.push(result.task, ...result.dependents);
  }
}

/** The run's cancelled tasks: what was planned but will not be built. */
export function cancelledTasksOf(tasks: readonly Task[], runId: string): Task[] {
  return tasks.filter((task) => task.runId === runId && task.status === 'cancelled');
}
