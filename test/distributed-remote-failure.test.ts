/**
 * A shared remote that fails for a while during a distributed run (DESIGN.md §3 Store and
 * distribution): a real PostgreSQL server, a bare repository whose pre-receive hook refuses the
 * first pushes of every task branch, a coordinator that only plans and merges, and one
 * `loki worker` that does every task. The remote's failures are not the tasks' failures: each
 * push is tried again, the task goes back to the queue with no failure counted when the tries run
 * out, its verified work is pushed on the next claim (not made again), and the worker says which
 * remote failed and what git said.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionTask } from '../src/bench/generated-session.ts';
import { PostgresStore } from '../src/store/index.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import {
  coordinatorClone,
  prepareDistributedRun,
  processOf,
  remoteMergedTaskIds,
  workerDirectory,
} from './support/distributed-fixture.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { startLoki } from './support/run-harness.ts';

const binaries = findPostgresBinaries();
const TASKS: SessionTask[] = ['alpha', 'beta'].map((id) => ({
  id,
  files: { [`files/${id}.txt`]: `the work of ${id}\n` },
}));
/** Refused pushes of each task branch: as many as a claim tries (3), so each task is also put back once. */
const REFUSED_PUSHES = 3;
const ENV = { LOKI_FOLLOW_MACHINE_LOAD: 'false' };

/** A pre-receive hook refusing the first `refused` pushes of each loki/* branch, counting them in `counts`. */
function refuseFirstTaskPushes(remote: string, counts: string, refused: number): void {
  mkdirSync(counts, { recursive: true });
  const hook = join(remote, 'hooks', 'pre-receive');
  writeFileSync(
    hook,
    `#!/bin/sh
while read old new ref; do
  case "$ref" in
    refs/heads/loki/*)
      file="${counts}/$(echo "$ref" | tr / _)"
      count=$(( $(cat "$file" 2>/dev/null || echo 0) + 1 ))
      echo "$count" > "$file"
      if [ "$count" -le ${refused} ]; then
        echo "the remote is down for a moment" >&2
        exit 1
      fi
      ;;
  esac
done
exit 0
`,
  );
  chmodSync(hook, 0o755);
}

describe.skipIf('missing' in binaries)(
  `a run whose shared remote fails for a while${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const started = usePostgresServer(binaries);

    it('retries and requeues a refused push without counting a failure; every task merged once, its work made once', async () => {
      using workspace = new TempWorkspace('loki-remote-failure-');
      const fixture = prepareDistributedRun(workspace.root, { tasks: TASKS });
      refuseFirstTaskPushes(fixture.remote, join(workspace.root, 'push-counts'), REFUSED_PUSHES);
      const url = await started().createDatabase('remote_failure');
      await using store = await PostgresStore.open(url);
      const repo = ['--store', url, '--repo', fixture.remote];
      // The coordinator plans and merges (no task workers of its own): the worker does every task.
      const coordinator = startLoki(
        workspace,
        [
          'run',
          'prd.md',
          ...repo,
          '--provider',
          'scripted',
          '--script',
          fixture.sessionPath,
          '--parallel',
          '0',
          '--no-dashboard',
        ],
        ENV,
        coordinatorClone(workspace.root, fixture, 'coordinator'),
      );
      const worker = startLoki(
        workspace,
        ['worker', ...repo, '--dir', workerDirectory(workspace.root, 'worker'), '--parallel', '1'],
        ENV,
      );
      const outcome = await coordinator.done;
      expect(outcome.exitCode, `${outcome.stdout}\n${outcome.stderr}`).toBe(0);
      const workerOutcome = await worker.done;
      expect(workerOutcome.exitCode, workerOutcome.stderr).toBe(0);

      expect(remoteMergedTaskIds(fixture.remote).toSorted()).toEqual(TASKS.map((task) => task.id));
      const tasks = await store.listTasks();
      const worked = tasks.filter((task) => TASKS.some((planned) => planned.id === task.id));
      expect(worked).toHaveLength(TASKS.length);
      for (const task of worked) {
        expect({ id: task.id, status: task.status, failureCount: task.failureCount }).toEqual({
          id: task.id,
          status: 'completed',
          failureCount: 0,
        });
      }
      // Put back once each, saying why, with the remote named.
      const released = await store.listEvents({ types: ['task.released'] });
      for (const task of TASKS) {
        const reasons = released.flatMap((event) =>
          event.type === 'task.released' && event.taskId === task.id ? [event.data.reason] : [],
        );
        expect(reasons, task.id).toEqual([expect.stringContaining(fixture.remote)]);
        expect(reasons[0]).toMatch(/no failure counted/);
      }
      // Each task's agent ran once: the next claim pushed the verified checkpoint it had made.
      const agentsByTask = new Map<string, number>();
      for (const event of await store.listEvents({ types: ['agent.started'] })) {
        if (
          event.type === 'agent.started' &&
          event.data.agentType.startsWith('eng-') &&
          event.taskId !== null
        )
          agentsByTask.set(event.taskId, (agentsByTask.get(event.taskId) ?? 0) + 1);
      }
      expect(Object.fromEntries(agentsByTask)).toEqual(Object.fromEntries(TASKS.map((task) => [task.id, 1])));
      // Every task was the worker's, and it said which remote failed and what git said.
      const completed = await store.listEvents({ types: ['task.completed'] });
      for (const event of completed) {
        if (event.type === 'task.completed') expect(processOf(event.data.workerId)).toMatch(/^worker:/);
      }
      expect(workerOutcome.stderr).toContain(`the run's remote ${fixture.remote} failed`);
      expect(workerOutcome.stderr).toContain('the remote is down for a moment');
    }, 600_000);
  },
);
