/**
 * A run over several machines, as a team sets one up: a real PostgreSQL server, a bare repository
 * standing in for the shared remote, a coordinator (`loki run --store URL --repo GIT_URL`) that plans
 * and merges, and three `loki worker` processes, each in its own clone. Every task must reach the
 * remote's main exactly once, whatever is killed on the way.
 */
import { describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import type { SessionTask } from '../src/bench/generated-session.ts';
import type { LokiEvent } from '../src/events/index.ts';
import { PostgresStore, type Task } from '../src/store/index.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import {
  coordinatorClone,
  type DistributedFixture,
  prepareDistributedRun,
  processOf,
  remoteMergedTaskIds,
  workerDirectory,
} from './support/distributed-fixture.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { type RunningLoki, startLoki } from './support/run-harness.ts';

const binaries = findPostgresBinaries();
const TASK_COUNT = 40;

/** Forty independent tasks, each writing one file; every model answer takes a while, so work overlaps. */
function fortyTasks(): SessionTask[] {
  return Array.from({ length: TASK_COUNT }, (_, index) => {
    const id = `t${String(index + 1).padStart(2, '0')}`;
    return { id, files: { [`files/${id}.txt`]: `the work of ${id}\n` } };
  });
}

/** Leases short enough that a killed worker's task comes back during the test (heartbeats every 2 s). */
const MACHINE_ENV = { LOKI_LEASE_SECONDS: '6', LOKI_FOLLOW_MACHINE_LOAD: 'false' };

describe.skipIf('missing' in binaries)(
  `a run over several machines${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const started = usePostgresServer(binaries);

    function startCoordinator(
      workspace: TempWorkspace,
      fixture: DistributedFixture,
      url: string,
      name: string,
      command: 'run' | 'resume',
    ): RunningLoki {
      const directory = coordinatorClone(workspace.root, fixture, name);
      const prd = command === 'run' ? ['prd.md'] : [];
      return startLoki(
        workspace,
        [
          command,
          ...prd,
          '--store',
          url,
          '--repo',
          fixture.remote,
          '--provider',
          'scripted',
          '--script',
          fixture.sessionPath,
          '--parallel',
          '1',
          '--no-dashboard',
        ],
        MACHINE_ENV,
        directory,
      );
    }

    function startWorker(
      workspace: TempWorkspace,
      fixture: DistributedFixture,
      url: string,
      name: string,
    ): RunningLoki {
      return startLoki(
        workspace,
        [
          'worker',
          '--store',
          url,
          '--repo',
          fixture.remote,
          '--dir',
          workerDirectory(workspace.root, name),
          '--parallel',
          '2',
        ],
        MACHINE_ENV,
      );
    }

    /** Polls the shared store (no fixed sleep) until `condition` holds for its tasks and events. */
    async function waitForStore(
      store: PostgresStore,
      condition: (tasks: Task[], events: LokiEvent[]) => boolean,
      description: string,
      processes: readonly RunningLoki[],
    ): Promise<void> {
      const deadline = Date.now() + 240_000;
      for (;;) {
        const tasks = await store.listTasks();
        const events = await store.listEvents({ types: ['task.claimed', 'task.completed'] });
        if (condition(tasks, events)) return;
        if (Date.now() > deadline) {
          const output = processes.map((each) => `${each.output()}${each.errorOutput()}`).join('\n---\n');
          throw new Error(`timed out waiting for ${description}; output so far:\n${output}`);
        }
        await delay(100);
      }
    }

    /** The process name in the task worker ids of `worker` (`worker:<host>:<pid>`), once it has claimed. */
    async function processNamed(
      store: PostgresStore,
      worker: RunningLoki,
      processes: readonly RunningLoki[],
    ): Promise<string> {
      const suffix = `:${String(worker.child.pid)}`;
      let name = '';
      await waitForStore(
        store,
        (_tasks, events) => {
          const claim = events.find(
            (event) => event.type === 'task.claimed' && processOf(event.data.workerId).endsWith(suffix),
          );
          if (claim?.type !== 'task.claimed') return false;
          name = processOf(claim.data.workerId);
          return name.startsWith('worker:');
        },
        `worker ${String(worker.child.pid)} to claim a task`,
        processes,
      );
      return name;
    }

    /** Who completed each task: the worker process of its `task.completed` event. */
    async function completersByTask(store: PostgresStore): Promise<Map<string, string>> {
      const completed = await store.listEvents({ types: ['task.completed'] });
      return new Map(
        completed.flatMap((event) =>
          event.type === 'task.completed' && event.taskId !== null
            ? [[event.taskId, processOf(event.data.workerId)] as const]
            : [],
        ),
      );
    }

    it('merges forty tasks exactly once; a worker killed mid-task leaves its task to another', async () => {
      using workspace = new TempWorkspace('loki-machines-');
      const fixture = prepareDistributedRun(workspace.root, {
        tasks: fortyTasks(),
        latencyMilliseconds: 150,
      });
      const url = await started().createDatabase('machines');
      await using store = await PostgresStore.open(url);
      const coordinator = startCoordinator(workspace, fixture, url, 'coordinator', 'run');
      const first = startWorker(workspace, fixture, url, 'first');
      const everyone = [coordinator, first];
      // A worker's task workers are `worker:<host>:<pid>:w<n>`: its claims name its process.
      const firstProcess = await processNamed(store, first, everyone);
      everyone.push(
        startWorker(workspace, fixture, url, 'second'),
        startWorker(workspace, fixture, url, 'third'),
      );
      // Once the first worker has finished a task and holds another, it is killed in the middle of it.
      let heldAtTheKill: string[] = [];
      await waitForStore(
        store,
        (tasks, events) => {
          const hasFinishedOne = events.some(
            (event) => event.type === 'task.completed' && processOf(event.data.workerId) === firstProcess,
          );
          heldAtTheKill = tasks
            .filter(
              (task) => task.status === 'in_progress' && processOf(task.claimedBy ?? '') === firstProcess,
            )
            .map((task) => task.id);
          return hasFinishedOne && heldAtTheKill.length > 0;
        },
        'the first worker to finish a task and hold another',
        everyone,
      );
      first.child.kill('SIGKILL');

      const outcome = await coordinator.done;
      expect(outcome.exitCode, `${outcome.stdout}\n${outcome.stderr}`).toBe(0);
      const workers = await Promise.all(everyone.slice(2).map((worker) => worker.done));
      for (const worker of workers) expect(worker.exitCode, worker.stderr).toBe(0);

      // Every task on the remote's main exactly once.
      const merged = remoteMergedTaskIds(fixture.remote);
      expect([...merged].sort()).toEqual(fortyTasks().map((task) => task.id));
      // Each worker did some.
      const completers = await completersByTask(store);
      const workerProcesses = [firstProcess];
      for (const worker of everyone.slice(2))
        workerProcesses.push(await processNamed(store, worker, everyone));
      for (const process of workerProcesses) expect([...completers.values()]).toContain(process);
      // What the killed worker held was finished by another.
      for (const taskId of heldAtTheKill) {
        expect(completers.get(taskId)).toBeDefined();
        expect(completers.get(taskId)).not.toBe(firstProcess);
      }
    }, 600_000);

    it('goes on under a second coordinator when the first is killed, merging nothing twice', async () => {
      using workspace = new TempWorkspace('loki-machines-');
      const fixture = prepareDistributedRun(workspace.root, {
        tasks: fortyTasks(),
        latencyMilliseconds: 150,
      });
      const url = await started().createDatabase('takeover');
      await using store = await PostgresStore.open(url);
      const first = startCoordinator(workspace, fixture, url, 'coordinator', 'run');
      const workers = ['first', 'second', 'third'].map((name) => startWorker(workspace, fixture, url, name));
      await waitForStore(
        store,
        (_tasks, events) => events.filter((event) => event.type === 'task.completed').length >= 8,
        'eight tasks merged',
        [first, ...workers],
      );
      first.child.kill('SIGKILL');
      await first.done;
      // Another machine's `loki run` finds the run in the store and takes over as its coordinator.
      const second = startCoordinator(workspace, fixture, url, 'second-coordinator', 'run');

      const outcome = await second.done;
      // Any merge that was not decided merged, with the coordinator's reason: what a failure needs.
      const refusals = (await store.listEvents({ types: ['merge.decided'] }))
        .filter((event) => event.type === 'merge.decided' && event.data.outcome !== 'merged')
        .map((event) => `${event.taskId ?? ''}: ${JSON.stringify(event.data)}`);
      expect(outcome.exitCode, `${outcome.stdout}\n${outcome.stderr}\n${refusals.join('\n')}`).toBe(0);
      for (const worker of await Promise.all(workers.map((each) => each.done))) {
        expect(worker.exitCode, worker.stderr).toBe(0);
      }
      const merged = remoteMergedTaskIds(fixture.remote);
      expect([...merged].sort()).toEqual(fortyTasks().map((task) => task.id));
    }, 600_000);
  },
);
