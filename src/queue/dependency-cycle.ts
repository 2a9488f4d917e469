/**
 * Finds a dependency cycle among tasks of one batch, returned as the path that closes it
 * (`[a, b, a]`), or null. Tasks already stored cannot take part in a cycle: their dependencies were
 * all known when they were inserted, so none of them can point at a task of this batch. (Deferring
 * a task is the one exception, and the store checks it inside the defer transaction.)
 */
export function findDependencyCycle(
  tasks: ReadonlyArray<{ id: string; dependencies: readonly string[] }>,
): string[] | null {
  const dependenciesById = new Map(tasks.map((task) => [task.id, task.dependencies]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];

  const visit = (taskId: string): string[] | null => {
    const seen = state.get(taskId);
    if (seen === 'done') return null;
    if (seen === 'visiting') return [...path.slice(path.indexOf(taskId)), taskId];
    state.set(taskId, 'visiting');
    path.push(taskId);
    for (const dependencyId of dependenciesById.get(taskId) ?? []) {
      if (!dependenciesById.has(dependencyId)) continue;
      const cycle = visit(dependencyId);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(taskId, 'done');
    return null;
  };

  for (const task of tasks) {
    const cycle = visit(task.id);
    if (cycle !== null) return cycle;
  }
  return null;
}
