import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskQueue } from '../queue/index.ts';
import { SqliteStore, type TaskCounts } from '../store/index.ts';
import { type CommandTiming, timeNodeCommand } from './timing.ts';

export type CliMeasurement<T> = { ran: true; value: T } | { ran: false; reason: string };

/**
 * `bin/loki.js` imports `dist/cli/main.js`: build it when it is missing so that the figures are for
 * the code users run (compiled JavaScript, no type stripping).
 */
export function ensureBuilt(repositoryRoot: string): CliMeasurement<{ builtNow: boolean }> {
  if (existsSync(join(repositoryRoot, 'dist', 'cli', 'main.js')))
    return { ran: true, value: { builtNow: false } };
  const compiler = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [compiler, '-p', 'tsconfig.build.json'], {
    cwd: repositoryRoot,
    encoding: 'utf8',
  });
  if (build.status !== 0 || !existsSync(join(repositoryRoot, 'dist', 'cli', 'main.js'))) {
    const output = `${build.stdout}${build.stderr}`.trim().split('\n').slice(0, 10).join('\n');
    return { ran: false, reason: `dist/cli/main.js is missing and "npm run build" failed:\n${output}` };
  }
  return { ran: true, value: { builtNow: true } };
}

export function measureVersionStartup(repositoryRoot: string, runs: number): CliMeasurement<CommandTiming> {
  return attempt(() =>
    timeNodeCommand([join(repositoryRoot, 'bin', 'loki.js'), '--version'], {
      cwd: repositoryRoot,
      runs,
      label: 'loki --version',
    }),
  );
}

export interface StatusMeasurement {
  taskCount: number;
  counts: TaskCounts;
  status: CommandTiming;
  statusJson: CommandTiming;
}

/**
 * `loki status` on a workspace whose database holds `taskCount` tasks in a mix of states. The tasks
 * go in through TaskQueue, as a run would write them, so the events table is realistic too.
 */
export async function measureStatus(
  repositoryRoot: string,
  taskCount: number,
  runs: number,
): Promise<CliMeasurement<StatusMeasurement>> {
  const workspace = mkdtempSync(join(tmpdir(), 'loki-bench-status-'));
  try {
    const loki = join(repositoryRoot, 'bin', 'loki.js');
    const init = spawnSync(process.execPath, [loki, 'init'], { cwd: workspace, encoding: 'utf8' });
    if (init.status !== 0) {
      return {
        ran: false,
        reason: `"loki init" exited with ${init.status ?? init.signal}: ${init.stderr.trim()}`,
      };
    }
    const databasePath = join(workspace, '.loki', 'loki.db');
    if (!existsSync(databasePath)) return { ran: false, reason: '"loki init" did not create .loki/loki.db' };
    const counts = await fillWorkspaceDatabase(databasePath, taskCount);
    const statusResult = attempt(() => ({
      status: timeNodeCommand([loki, 'status'], { cwd: workspace, runs, label: 'loki status' }),
      statusJson: timeNodeCommand([loki, 'status', '--json'], {
        cwd: workspace,
        runs,
        label: 'loki status --json',
      }),
    }));
    if (!statusResult.ran) return statusResult;
    return { ran: true, value: { taskCount, counts, ...statusResult.value } };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** 10,000 tasks → 60 % completed, 2 % in progress, 3 % failed, 1 % cancelled, the rest pending. */
async function fillWorkspaceDatabase(databasePath: string, taskCount: number): Promise<TaskCounts> {
  await using store = await SqliteStore.open(databasePath);
  const queue = new TaskQueue(store);
  const batchSize = 1_000;
  for (let start = 0; start < taskCount; start += batchSize) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(batchSize, taskCount - start) }, (_, index) => ({
        type: ['eng-backend', 'eng-frontend', 'qa-unit', 'ops-deploy'][(start + index) % 4] ?? 'eng-backend',
        title: `status bench task ${start + index}`,
      })),
    );
  }
  const completedCount = Math.floor(taskCount * 0.6);
  const inProgressCount = Math.floor(taskCount * 0.02);
  const failedCount = Math.floor(taskCount * 0.03);
  const cancelledCount = Math.floor(taskCount * 0.01);
  for (let index = 0; index < completedCount + inProgressCount + failedCount; index += 1) {
    const workerId = `worker-${index % 8}`;
    const task = await queue.claim({ workerId });
    if (task === null) throw new Error(`queue ran dry after ${index} claims`);
    if (index < completedCount) await queue.complete(task.id, workerId, { summary: 'done' });
    else if (index >= completedCount + inProgressCount)
      await queue.fail(task.id, workerId, 'bench: simulated failure');
  }
  const pending = await queue.list({ statuses: ['pending'], limit: cancelledCount });
  for (const task of pending) await queue.cancel(task.id, 'bench: simulated cancel');
  return queue.counts();
}

/** A CLI that fails (or is not written yet) is reported as "not run" with its message, not as a crash. */
function attempt<T>(measure: () => T): CliMeasurement<T> {
  try {
    return { ran: true, value: measure() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ran: false, reason };
  }
}
