import { runGit } from '../git/index.ts';

export const TASK_TRAILER = 'Loki-Task';
export const RESOLVES_TRAILER = 'Loki-Resolves';

export interface MergedTask {
  /** The checkpoint on main that carries the task's work. */
  commit: string;
  /** Set when the work arrived through a resolution task: that task's id. */
  via: string | null;
}

/**
 * What main already holds, read from the checkpoints' trailers: `Loki-Task: <id>` on every
 * checkpoint and `Loki-Resolves: <id>` on a resolution task's. Git is the evidence here, so a run
 * that died between moving main and recording it in the store never merges a task twice.
 */
export async function readMergedTasks(
  repositoryRoot: string,
  mainBranch: string,
): Promise<Map<string, MergedTask>> {
  const log = await runGit(repositoryRoot, [
    'log',
    `refs/heads/${mainBranch}`,
    `--format=%H%x1f%(trailers:key=${TASK_TRAILER},valueonly,separator=%x2c)%x1f%(trailers:key=${RESOLVES_TRAILER},valueonly,separator=%x2c)%x1e`,
  ]);
  const merged = new Map<string, MergedTask>();
  for (const record of log.stdout.split('\x1e')) {
    const [commit, taskIds, resolvedIds] = record.trim().split('\x1f');
    if (commit === undefined || commit === '' || taskIds === undefined) continue;
    const ids = splitList(taskIds);
    for (const id of ids) if (!merged.has(id)) merged.set(id, { commit, via: null });
    for (const resolved of splitList(resolvedIds ?? '')) {
      if (!merged.has(resolved)) merged.set(resolved, { commit, via: ids[0] ?? null });
    }
  }
  return merged;
}

function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

/**
 * What main holds, read from git once per process and then kept up to date by the merges this
 * process makes (the run lock guarantees no other process merges meanwhile): one git log per run
 * instead of one per task.
 */
export class MergedWorkIndex {
  readonly #merged: Map<string, MergedTask>;

  private constructor(merged: Map<string, MergedTask>) {
    this.#merged = merged;
  }

  static async load(repositoryRoot: string, mainBranch: string): Promise<MergedWorkIndex> {
    return new MergedWorkIndex(await readMergedTasks(repositoryRoot, mainBranch));
  }

  /** Reads main again: another machine moved it (a distributed run's worker, after syncing main). */
  async reload(repositoryRoot: string, mainBranch: string): Promise<void> {
    const merged = await readMergedTasks(repositoryRoot, mainBranch);
    this.#merged.clear();
    for (const [taskId, task] of merged) this.#merged.set(taskId, task);
  }

  get(taskId: string): MergedTask | undefined {
    return this.#merged.get(taskId);
  }

  /** A checkpoint of `taskId` reached main, carrying the work of `resolves` too. */
  record(taskId: string, commit: string, resolves: readonly string[]): void {
    this.#merged.set(taskId, { commit, via: null });
    for (const resolved of resolves) this.#merged.set(resolved, { commit, via: taskId });
  }
}
