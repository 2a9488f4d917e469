import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOKI_GIT_IDENTITY, runGit } from '../git/index.ts';
import { roundTo } from './timing.ts';

/** The git operations one task costs at the least, in the order a task meets them. */
export const BARE_GIT_OPERATIONS = [
  'worktreeAdd',
  'commit',
  'rebase',
  'fastForward',
  'worktreeRemove',
] as const;
export type BareGitOperation = (typeof BARE_GIT_OPERATIONS)[number];

export interface BareGitCost {
  tasks: number;
  /** Files on main before the first task, like the run's main near its end. */
  filesOnMain: number;
  meanPerTaskMilliseconds: number;
  meanPerOperationMilliseconds: Record<BareGitOperation, number>;
  method: string;
}

const WITHOUT_HOOKS = ['-c', 'core.hooksPath=/dev/null'] as const;

/**
 * The floor under the orchestrator: the same git work a task needs, done by hand, one task after
 * another, with nothing else running. All task branches are made from the first main (as in the
 * run, where main moves on while a task works), so every rebase really replays a commit.
 */
export async function measureBareGitCost(
  directory: string,
  options: { tasks: number; filesOnMain: number; env: NodeJS.ProcessEnv },
): Promise<BareGitCost> {
  const repository = join(directory, 'repository');
  const integration = join(directory, 'integration');
  const worktrees = join(directory, 'worktrees');
  mkdirSync(join(repository, 'src'), { recursive: true });
  mkdirSync(worktrees, { recursive: true });
  const git = (cwd: string, args: readonly string[]) =>
    runGit(cwd, args, { env: { ...options.env, ...LOKI_GIT_IDENTITY } });

  await git(repository, ['init', '--quiet', '--initial-branch=main']);
  for (let index = 0; index < options.filesOnMain; index += 1) {
    writeFileSync(join(repository, 'src', `existing-${index}.txt`), `existing file ${index}\n`);
  }
  await git(repository, ['add', '--all']);
  await git(repository, ['commit', '--quiet', '--no-verify', '-m', 'initial']);
  await git(repository, [...WITHOUT_HOOKS, 'worktree', 'add', '--quiet', '--detach', integration, 'main']);

  const totals: Record<BareGitOperation, number> = {
    worktreeAdd: 0,
    commit: 0,
    rebase: 0,
    fastForward: 0,
    worktreeRemove: 0,
  };
  const timed = async (operation: BareGitOperation, body: () => Promise<unknown>) => {
    const start = performance.now();
    await body();
    totals[operation] += performance.now() - start;
  };

  const taskIds = Array.from({ length: options.tasks }, (_, index) => `bare-${index + 1}`);
  for (const taskId of taskIds) {
    const path = join(worktrees, taskId);
    await timed('worktreeAdd', () =>
      git(repository, ['worktree', 'add', '--quiet', '-b', `loki/${taskId}`, path, 'main']),
    );
    writeFileSync(join(path, `${taskId}-a.txt`), `a ${taskId}\n`);
    writeFileSync(join(path, `${taskId}-b.txt`), `b ${taskId}\n`);
    await timed('commit', async () => {
      await git(path, ['add', '--all']);
      await git(path, ['commit', '--quiet', '--no-verify', '-m', `work of ${taskId}`]);
    });
  }
  for (const taskId of taskIds) {
    await timed('rebase', async () => {
      await git(integration, [
        ...WITHOUT_HOOKS,
        'checkout',
        '--quiet',
        '--force',
        '--detach',
        `loki/${taskId}`,
      ]);
      await git(integration, [...WITHOUT_HOOKS, 'rebase', '--quiet', '--no-verify', 'main']);
    });
    await timed('fastForward', async () => {
      const rebased = (await git(integration, ['rev-parse', 'HEAD'])).stdout.trim();
      await git(repository, ['update-ref', 'refs/heads/main', rebased]);
    });
    await timed('worktreeRemove', () =>
      git(repository, ['worktree', 'remove', '--force', join(worktrees, taskId)]),
    );
  }

  const perOperation = Object.fromEntries(
    BARE_GIT_OPERATIONS.map((operation) => [operation, roundTo(totals[operation] / options.tasks, 1)]),
  ) as Record<BareGitOperation, number>;
  const total = BARE_GIT_OPERATIONS.reduce((sum, operation) => sum + totals[operation], 0);
  return {
    tasks: options.tasks,
    filesOnMain: options.filesOnMain,
    meanPerTaskMilliseconds: roundTo(total / options.tasks, 1),
    meanPerOperationMilliseconds: perOperation,
    method:
      'one task after another, through the same spawn helper as the orchestrator (runGit): worktree add -b; ' +
      'write two files; add --all + commit; in an integration worktree checkout --detach of the branch + rebase ' +
      'onto main (branches all start from the first main, so the rebase replays a commit); rev-parse + update-ref ' +
      'of main; worktree remove --force',
  };
}
