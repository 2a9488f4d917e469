/**
 * A `loki worker` on another machine verifies a task with the project's gates, as the coordinator's
 * merge queue will: its clone of the shared remote has no `.loki/specs/architecture.json` (that is
 * the coordinator's local state), so the gates come from the run's record in the store. Real
 * processes of the built CLI against a real PostgreSQL server, with a scripted session; the worker
 * starts before the run exists, so it joins before the architecture is known.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SessionTask } from '../src/bench/generated-session.ts';
import { PostgresStore } from '../src/store/index.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import {
  coordinatorClone,
  type DistributedFixture,
  prepareDistributedRun,
  remoteMergedTaskIds,
  workerDirectory,
} from './support/distributed-fixture.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { type RunningLoki, startLoki } from './support/run-harness.ts';

const binaries = findPostgresBinaries();
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 240_000;
const GATE_MESSAGE = 'project gate: forbidden.txt must not be committed';
/** A project gate that main passes and a task writing forbidden.txt fails, saying why. */
const FORBIDDEN_FILE_GATE = `if test -f forbidden.txt; then echo '${GATE_MESSAGE}' >&2; exit 1; fi`;

/** Two tasks with no verify commands of their own: only the project's gates can verify them. */
const TASKS: SessionTask[] = [
  { id: 'good', files: { 'good.txt': 'fine\n' }, verifyCommands: [] },
  {
    id: 'bad',
    files: { 'forbidden.txt': 'not allowed\n' },
    verifyCommands: [],
    // Told that the gate failed, the agent insists on every round of its attempt.
    steps: [
      { toolCalls: [{ toolName: 'write_file', input: { path: 'forbidden.txt', content: 'not allowed\n' } }] },
      ...Array.from({ length: 3 }, () => ({
        toolCalls: [
          {
            toolName: 'task_complete',
            input: { summary: 'wrote it', files_changed: ['forbidden.txt'], tests_run: [] },
          },
        ],
      })),
    ],
  },
];

const MACHINE_ENV = { LOKI_FOLLOW_MACHINE_LOAD: 'false' };

describe.skipIf('missing' in binaries)(
  `a worker verifies with the run's project gates${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const started = usePostgresServer(binaries);

    function startCoordinator(workspace: TempWorkspace, fixture: DistributedFixture, url: string) {
      const directory = coordinatorClone(workspace.root, fixture, 'coordinator');
      // --parallel 0: every task is left to the worker on the "other machine".
      const args = ['run', 'prd.md', '--store', url, '--repo', fixture.remote, '--provider', 'scripted'];
      return startLoki(
        workspace,
        [...args, '--script', fixture.sessionPath, '--parallel', '0', '--no-dashboard', '--no-deploy'],
        MACHINE_ENV,
        directory,
      );
    }

    function startWorker(workspace: TempWorkspace, fixture: DistributedFixture, url: string) {
      const directory = workerDirectory(workspace.root, 'machine-2');
      const args = ['worker', '--store', url, '--repo', fixture.remote, '--dir', directory];
      return { worker: startLoki(workspace, [...args, '--parallel', '2'], MACHINE_ENV), directory };
    }

    it('merges a task the gates pass and fails one they reject, with the gate’s output', async () => {
      using workspace = new TempWorkspace('loki-worker-gates-');
      const fixture = prepareDistributedRun(workspace.root, {
        tasks: TASKS,
        latencyMilliseconds: 50,
        verifyCommands: [FORBIDDEN_FILE_GATE],
      });
      const url = await started().createDatabase('gates');
      await using store = await PostgresStore.open(url);
      const { worker, directory } = startWorker(workspace, fixture, url);
      const coordinator = startCoordinator(workspace, fixture, url);
      const everyone = [coordinator, worker];
      try {
        await expectGatesOnWorker(store, fixture, directory, everyone);
        // The run goes on retrying the rejected task: both are stopped as a user would (Ctrl-C).
        for (const each of everyone) each.child.kill('SIGINT');
        await Promise.all(everyone.map((each) => each.done));
      } finally {
        for (const each of everyone) if (each.child.exitCode === null) each.child.kill('SIGKILL');
      }
    }, 300_000);
  },
);

/** Waits for the worker to merge the task the gates pass and to fail the one they reject, then checks how. */
async function expectGatesOnWorker(
  store: PostgresStore,
  fixture: DistributedFixture,
  directory: string,
  everyone: readonly RunningLoki[],
): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
  for (;;) {
    const good = await store.getTask('good');
    const badFailures = await store.listEvents({ taskId: 'bad', types: ['task.failed'] });
    if (good?.status === 'completed' && badFailures.length > 0) break;
    if ((await store.listEvents({ taskId: 'good', types: ['task.failed'] })).length > 0) {
      throw new Error(`the task the gates pass failed: ${good?.lastError}\n${outputOf(everyone)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${outputOf(everyone)}`);
    await delay(200);
  }
  // The worker's clone never had the coordinator's architecture: the gates came from the store.
  expect(existsSync(join(directory, '.loki', 'specs', 'architecture.json'))).toBe(false);

  const verifications = await store.listEvents({ types: ['verification.ran'] });
  const ofTask = (taskId: string) =>
    verifications.flatMap((event) =>
      event.type === 'verification.ran' && event.taskId === taskId ? [event.data] : [],
    );
  expect(ofTask('good').some((ran) => ran.passed && ran.command.includes('forbidden.txt'))).toBe(true);
  expect(ofTask('bad').length).toBeGreaterThan(0);
  for (const ran of ofTask('bad')) {
    expect(ran.passed).toBe(false);
    expect(ran.outputTail).toContain(GATE_MESSAGE);
  }
  // What the gates reject is never handed to the coordinator, and never reaches main.
  expect(await store.listEvents({ taskId: 'bad', types: ['merge.requested'] })).toEqual([]);
  expect(remoteMergedTaskIds(fixture.remote)).toEqual(['good']);
  const claims = await store.listEvents({ types: ['task.claimed'] });
  for (const claim of claims) {
    expect(claim.data).toMatchObject({ workerId: expect.stringMatching(/^worker:/) });
  }
}

function outputOf(processes: readonly RunningLoki[]): string {
  return processes.map((each) => `${each.output()}${each.errorOutput()}`).join('\n---\n');
}
