import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SessionTask } from '../../src/bench/generated-session.ts';
import type { ChaosSession } from './chaos-run.ts';
import type { TempWorkspace } from './cli-harness.ts';
import { waitForNoProcessesInside } from './processes-inside.ts';

/** Children of a disrupted run (git, sandboxes) may take a moment to notice; after this they are orphans. */
const ORPHAN_GRACE_MILLISECONDS = 5_000;

/** The fields of a task in `.loki/queue/*.json` (see src/workspace/write-projections.ts) these checks read. */
interface ProjectedTask {
  id: string;
  retries: number;
  lastError: string | null;
}

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * What must hold after any amount of chaos once a plain `loki resume` has finished the run: it
 * completed with exit 0, every planned task is on main exactly once (its `Loki-Task` trailer), main
 * passes the project's gates on a fresh clone, the checkout is main, no worktree is left (locked or
 * not, registered or not), no process of a disrupted run is still alive, and the projections and
 * the report agree. Every check runs (soft), so one failure shows all that the chaos left wrong.
 */
export async function expectCompletedRun(options: {
  workspace: TempWorkspace;
  session: ChaosSession;
  plannedTasks: readonly SessionTask[];
  projectVerifyCommands: readonly string[];
}): Promise<void> {
  const { workspace, session } = options;
  const root = workspace.root;
  const history = () => session.history();
  expect(session.recorded?.status, `the run did not complete:\n${history()}`).toBe('completed');
  const last = session.steps.at(-1);
  expect.soft({ code: last?.code, signal: last?.signal }, `the last process; ${history()}`).toEqual({
    code: 0,
    signal: null,
  });

  // A process that ended by itself (not disrupted) either finished the run or was stopped by the
  // forced stop aimed at it: a resume that fails by itself is a crash-safety bug.
  const failedByThemselves = session.steps.filter(
    (step) => step.signal === null && step.code !== 0 && !(step.disruption !== null && step.code === 130),
  );
  expect.soft(failedByThemselves.length, `processes that failed by themselves; ${history()}`).toBe(0);

  // Nothing of the disrupted runs is still alive.
  const orphans = await waitForNoProcessesInside(root, ORPHAN_GRACE_MILLISECONDS);
  expect
    .soft(
      orphans.map((orphan) => `${orphan.pid} (cwd ${orphan.workingDirectory}): ${orphan.commandLine}`),
      `orphan processes; ${history()}`,
    )
    .toEqual([]);

  // Every planned task is on main exactly once.
  const plannedIds = options.plannedTasks.map((task) => task.id).sort();
  const mergedIds = git(root, ['log', 'main', '--format=%(trailers:key=Loki-Task,valueonly)'])
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .sort();
  expect.soft(mergedIds, `Loki-Task trailers on main; ${history()}`).toEqual(plannedIds);

  // Main holds each task's files; the checkout is main, with nothing of git's half-done work in it.
  for (const task of options.plannedTasks) {
    for (const [path, content] of Object.entries(task.files)) {
      expect.soft(git(root, ['show', `main:${path}`]), `${path} on main; ${history()}`).toBe(content);
    }
  }
  expect.soft(git(root, ['symbolic-ref', '--short', 'HEAD']).trim(), history()).toBe('main');
  expect.soft(git(root, ['status', '--porcelain', '--untracked-files=no']), history()).toBe('');
  expect.soft(existsSync(join(root, '.git', 'index.lock')), `.git/index.lock; ${history()}`).toBe(false);

  // Main is green: the project's gates pass on a fresh clone of it.
  const clone = join(workspace.home, 'main-clone');
  git(workspace.home, ['clone', '--quiet', '--branch', 'main', root, clone]);
  for (const command of options.projectVerifyCommands) {
    const result = spawnSync('/bin/sh', ['-c', command], { cwd: clone, encoding: 'utf8' });
    expect.soft(result.status, `\`${command}\` on a fresh clone of main; ${history()}`).toBe(0);
  }

  // No worktree is left: git knows only the main checkout, it has no admin entry of any other,
  // and .loki/worktrees holds nothing.
  const worktrees = git(root, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length));
  expect.soft(worktrees, `registered worktrees; ${history()}`).toEqual([root]);
  const adminDirectory = join(root, '.git', 'worktrees');
  expect.soft(existsSync(adminDirectory) ? readdirSync(adminDirectory) : [], history()).toEqual([]);
  const worktreesDirectory = join(root, '.loki', 'worktrees');
  expect.soft(existsSync(worktreesDirectory) ? readdirSync(worktreesDirectory) : [], history()).toEqual([]);

  // The queue projection agrees: every planned task completed, nothing else anywhere, and no task
  // failed on the way (an interrupted attempt goes back to the queue uncounted).
  const queueDirectory = join(root, '.loki', 'queue');
  const projectedTasks = (file: string) =>
    (JSON.parse(readFileSync(join(queueDirectory, file), 'utf8')) as { tasks: ProjectedTask[] }).tasks;
  const projectedIds = (file: string) =>
    projectedTasks(file)
      .map((task) => task.id)
      .sort();
  expect.soft(projectedIds('completed.json'), history()).toEqual(plannedIds);
  const retried = projectedTasks('completed.json')
    .filter((task) => task.retries > 0)
    .map((task) => `${task.id}: ${task.retries} failure(s), last: ${task.lastError ?? '(none)'}`);
  expect.soft(retried, `tasks that failed on the way; ${history()}`).toEqual([]);
  for (const file of [
    'pending.json',
    'in-progress.json',
    'failed.json',
    'dead-letter.json',
    'cancelled.json',
  ]) {
    expect.soft(projectedIds(file), `${file}; ${history()}`).toEqual([]);
  }

  // The run's report is written and says completed.
  const runId = session.recorded?.id ?? '';
  const reportPath = join(root, '.loki', 'artifacts', 'reports', `${runId}.json`);
  expect.soft(existsSync(reportPath), `${reportPath} is missing; ${history()}`).toBe(true);
  if (existsSync(reportPath)) {
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { status: string; exitCode: number };
    expect.soft(report, history()).toMatchObject({ status: 'completed', exitCode: 0 });
  }
}
