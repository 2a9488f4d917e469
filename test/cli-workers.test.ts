/**
 * `loki workers` and the workers in `loki status`: a real `loki run` on SQLite registers itself,
 * and two real processes registering in a real PostgreSQL store show up by machine, one of them
 * lost once it is killed with SIGKILL and the other stopped once it says so.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkersJson } from '../src/app/index.ts';
import { PostgresStore } from '../src/store/index.ts';
import type { StatusReport } from '../src/workspace/index.ts';
import { loki, parseJsonOutput, REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { prepareRun } from './support/run-harness.ts';

const binaries = findPostgresBinaries();

function task(id: string) {
  return {
    id,
    type: 'eng-backend',
    title: `title of ${id}`,
    description: '',
    priority: 5,
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: null,
    timeoutSeconds: 600,
    maxAttempts: 3,
  };
}

describe('loki workers', () => {
  it('lists the process of a finished SQLite run as stopped, with --all, and nothing running now', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: [{ id: 'one', files: { 'files/one.txt': 'one\n' } }] }, 2);
    const run = await loki(workspace, ['-c', 'baseWait=0', 'run', 'prd.md', ...args]);
    expect(run.exitCode, run.stderr).toBe(0);

    const now = await loki(workspace, ['workers', '--json']);
    expect(now.stderr).toBe('');
    expect(parseJsonOutput<WorkersJson>(now)).toMatchObject({ machines: [], stopped: 1 });
    expect((await loki(workspace, ['workers'])).stdout).toContain('(1 stopped: --all lists them)');

    const all = parseJsonOutput<WorkersJson>(await loki(workspace, ['workers', '--all', '--json']));
    expect(all.machines).toHaveLength(1);
    expect(all.machines[0]?.machine).toBe(hostname());
    expect(all.machines[0]?.workers).toEqual([
      expect.objectContaining({ role: 'run', state: 'stopped', parallel: 2, types: null, tasks: [] }),
    ]);
    const runProcess = all.machines[0]?.workers[0];
    expect(runProcess?.id).toBe(`run:${runProcess?.runId}:${hostname()}:${runProcess?.pid}`);

    const status = parseJsonOutput<StatusReport>(await loki(workspace, ['status', '--json']));
    expect(status.machines).toEqual([]);
  }, 120_000);

  describe.skipIf('missing' in binaries)(
    `with PostgreSQL${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
    () => {
      const started = usePostgresServer(binaries);
      let database = '';
      beforeAll(async () => {
        database = new URL(await started().createDatabase('workers')).pathname.slice(1);
      }, 180_000);

      it('shows two processes by machine with their tasks, a killed one as lost, a stopped one as stopped', async () => {
        using workspace = new TempWorkspace();
        expect((await loki(workspace, ['init'])).exitCode).toBe(0);
        const url = await started().createSchema(database);
        {
          await using store = await PostgresStore.open(url);
          await store.insertTasks([task('a'), task('b')]);
        }
        const first = await startRegistered(url, 'worker:machine-a:1', 'machine-a', 'a');
        const second = await startRegistered(url, 'worker:machine-b:1', 'machine-b', 'b');
        try {
          const workers = async (...flags: string[]) => {
            const result = await loki(workspace, ['--store', url, 'workers', '--json', ...flags]);
            expect(result.stderr).toBe('');
            return parseJsonOutput<WorkersJson>(result);
          };
          const listed = await workers();
          expect(listed.store).not.toContain('password');
          expect(listed.machines.map((machine) => [machine.machine, machine.workers])).toEqual([
            ['machine-a', [expect.objectContaining(registered('worker:machine-a:1', 'active', ['a']))]],
            ['machine-b', [expect.objectContaining(registered('worker:machine-b:1', 'active', ['b']))]],
          ]);
          // From a machine with no workspace, given the store alone.
          const empty = mkdtempSync(join(tmpdir(), 'loki-no-workspace-'));
          try {
            const elsewhere = await loki(workspace, ['--store', url, 'workers', '--json'], { cwd: empty });
            expect(elsewhere.stderr).toBe('');
            expect(parseJsonOutput<WorkersJson>(elsewhere).machines).toHaveLength(2);
          } finally {
            rmSync(empty, { recursive: true, force: true });
          }
          const text = (await loki(workspace, ['--store', url, 'workers'])).stdout;
          expect(text).toContain('(2 machines)');
          expect(text).toMatch(
            /machine-a\s+worker:machine-a:1\s+worker\s+active\s+\d+s ago\s+2\s+eng-backend\s+a\n/,
          );

          const status = parseJsonOutput<StatusReport>(
            await loki(workspace, ['--store', url, 'status', '--json']),
          );
          expect(status.machines.map((machine) => machine.machine)).toEqual(['machine-a', 'machine-b']);
          expect((await loki(workspace, ['--store', url, 'status'])).stdout).toMatch(
            /Machines: {5}machine-a {2}worker:machine-a:1 \(worker, active, heartbeat \d+s ago, 1 task\)\n {14}machine-b/,
          );

          first.kill('SIGKILL');
          const lost = await until(workers, (report) => report.machines[0]?.workers[0]?.state === 'lost');
          // Its task stays held until its lease expires: that, not the registry, returns it.
          expect(lost.machines[0]?.workers[0]?.tasks).toEqual(['a']);

          await stopRegistered(second);
          const afterStop = await workers();
          expect(afterStop.machines.map((machine) => machine.machine)).toEqual(['machine-a']);
          expect(afterStop.stopped).toBe(1);
          const all = await workers('--all');
          expect(all.machines[1]?.workers[0]).toMatchObject({ id: 'worker:machine-b:1', state: 'stopped' });
          expect(all.machines[1]?.workers[0]?.stoppedAt).not.toBeNull();
        } finally {
          first.kill('SIGKILL');
          second.kill('SIGKILL');
        }
      }, 120_000);
    },
  );
});

function registered(id: string, state: string, tasks: string[]) {
  return { id, role: 'worker', state, parallel: 2, types: ['eng-backend'], tasks, stoppedAt: null };
}

/** Heartbeats every 3 s: lost after 9 s of silence, which a loaded machine does not cause by itself. */
async function startRegistered(
  url: string,
  id: string,
  machine: string,
  taskId: string,
): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(
    process.execPath,
    [join(REPOSITORY_ROOT, 'test', 'support', 'registered-worker.ts'), url, id, machine, '3000', taskId],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  await lineFrom(child, 'ready');
  return child;
}

async function stopRegistered(child: ChildProcessWithoutNullStreams): Promise<void> {
  const stopped = lineFrom(child, 'stopped');
  child.stdin.write('stop\n');
  await stopped;
}

function lineFrom(child: ChildProcessWithoutNullStreams, expected: string): Promise<void> {
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line !== expected) return;
      lines.close();
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before "${expected}": ${stderr}`)));
  });
}

/** Polls until `condition` holds; the deadline only guards against a hang. */
async function until<T>(read: () => Promise<T>, condition: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)} at the deadline`);
    await delay(100);
  }
}
