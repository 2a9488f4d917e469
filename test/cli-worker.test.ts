/**
 * `loki worker` on "other machines" (its own clone of a bare repository standing in for the
 * shared remote) beside `loki run --repo` as the merge coordinator, all real processes of the built
 * CLI against a real PostgreSQL server, with a scripted session: the worker's tasks land on the
 * remote's main, and Ctrl-C puts the tasks it holds back in the queue.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildSession, type SessionTask } from '../src/bench/generated-session.ts';
import { PostgresStore } from '../src/store/index.ts';
import { REPOSITORY_ROOT } from './support/cli-harness.ts';
import { gitOutput as git } from './support/git.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';

const binaries = findPostgresBinaries();
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 240_000;

interface LokiChild {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe.skipIf('missing' in binaries)(
  `loki worker${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const started = usePostgresServer(binaries);
    let database = '';
    let root: string;
    let remote: string;
    let url: string;
    const children: LokiChild[] = [];

    beforeAll(async () => {
      database = new URL(await started().createDatabase('worker')).pathname.slice(1);
    }, 180_000);
    beforeEach(async () => {
      root = mkdtempSync(join(tmpdir(), 'loki-worker-cli-'));
      remote = join(root, 'remote.git');
      git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
      const seed = join(root, 'seed');
      mkdirSync(seed);
      git(seed, 'init', '--quiet', '--initial-branch=main');
      writeFileSync(join(seed, 'README.md'), 'shared\n');
      git(seed, 'add', '--all');
      git(seed, 'commit', '--quiet', '-m', 'initial');
      git(seed, 'push', '--quiet', remote, 'main');
      git(root, 'clone', '--quiet', remote, join(root, 'coordinator'));
      writeFileSync(join(root, 'prd.md'), '# Files\nWrite the files.\n');
      url = await started().createSchema(database);
    });
    afterEach(() => {
      for (const child of children.splice(0)) {
        if (child.process.exitCode === null && child.process.pid !== undefined) {
          process.kill(-child.process.pid, 'SIGKILL');
        }
      }
      rmSync(root, { recursive: true, force: true });
    });

    function writeSession(count: number, latencyMilliseconds: number): string {
      const tasks: SessionTask[] = Array.from({ length: count }, (_, index) => ({
        id: `t${index}`,
        files: { [`f${index}.txt`]: `work ${index}\n` },
      }));
      const path = join(root, 'session.json');
      writeFileSync(path, JSON.stringify(buildSession({ tasks, latencyMilliseconds })));
      return path;
    }

    function startLoki(cwd: string, args: readonly string[]): LokiChild {
      let output = '';
      const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'loki.js'), ...args], {
        cwd,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOME: root,
          GIT_AUTHOR_NAME: 'Loki Test',
          GIT_AUTHOR_EMAIL: 'loki@example.invalid',
          GIT_COMMITTER_NAME: 'Loki Test',
          GIT_COMMITTER_EMAIL: 'loki@example.invalid',
          LOKI_SKIP_PREREQS: 'true',
        },
      });
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      const started = { process: child, output: () => output, exited };
      children.push(started);
      return started;
    }

    function startCoordinator(script: string, parallel = 1): LokiChild {
      return startLoki(join(root, 'coordinator'), [
        'run',
        join(root, 'prd.md'),
        '--store',
        url,
        '--repo',
        remote,
        '--provider',
        'scripted',
        '--script',
        script,
        '--parallel',
        String(parallel),
        '--no-dashboard',
        '--no-deploy',
      ]);
    }

    function startWorker(name: string, parallel: number): LokiChild {
      return startLoki(root, [
        'worker',
        '--store',
        url,
        '--repo',
        remote,
        '--dir',
        join(root, name),
        '--parallel',
        String(parallel),
        '--json',
      ]);
    }

    it('merges the worker’s tasks onto the remote’s main, each once, and ends with the run', async () => {
      const script = writeSession(6, 300);
      const worker = startWorker('machine-2', 2);
      const coordinator = startCoordinator(script);
      expect(await coordinator.exited, coordinator.output()).toBe(0);
      expect(await worker.exited, worker.output()).toBe(0);
      const ended = worker
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { type: string; merged?: number; kind?: string })
        .find((line) => line.type === 'worker.ended');
      expect(ended?.kind).toBe('run_ended');
      expect(ended?.merged ?? 0).toBeGreaterThan(0);
      const trailers = git(remote, 'log', '--format=%(trailers:key=Loki-Task,valueonly)', 'main')
        .split('\n')
        .filter((line) => line !== '')
        .sort();
      expect(trailers).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
      const files = git(remote, 'ls-tree', '-r', '--name-only', 'main').split('\n');
      for (let index = 0; index < 6; index += 1) expect(files).toContain(`f${index}.txt`);
    }, 300_000);

    it('leaves every task to the workers when the coordinator runs with --parallel 0', async () => {
      const script = writeSession(4, 200);
      const coordinator = startCoordinator(script, 0);
      // The worker comes later: the coordinator waits for it rather than judging the run stalled.
      await using store = await PostgresStore.open(url);
      const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
      while ((await store.listTasks({ statuses: ['pending'] })).length === 0) {
        if (Date.now() > deadline) throw new Error(`no task was planned:\n${coordinator.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const worker = startWorker('machine-2', 2);
      expect(await coordinator.exited, coordinator.output()).toBe(0);
      expect(await worker.exited, worker.output()).toBe(0);
      expect(coordinator.output()).toContain('no agents here (--parallel 0)');
      // The coordinator is in the registry as a process of the run with no agents of its own.
      expect(coordinator.output()).not.toContain('could not record a heartbeat');
      const registered = await store.listWorkers();
      expect(registered.filter((record) => record.role === 'run').map((record) => record.parallel)).toEqual([
        0,
      ]);
      const claims = await store.listEvents({ types: ['task.claimed'] });
      expect(claims.length).toBeGreaterThanOrEqual(4);
      for (const claim of claims)
        expect(claim.data).toMatchObject({ workerId: expect.stringMatching(/^worker:/) });
      const trailers = git(remote, 'log', '--format=%(trailers:key=Loki-Task,valueonly)', 'main')
        .split('\n')
        .filter((line) => line !== '')
        .sort();
      expect(trailers).toEqual(['t0', 't1', 't2', 't3']);
    }, 300_000);

    it('puts the tasks it holds back in the queue on Ctrl-C (exit 130)', async () => {
      // Agents slow enough that the worker still holds its tasks when it is stopped.
      const script = writeSession(4, 60_000);
      const coordinator = startCoordinator(script);
      const worker = startWorker('machine-2', 2);
      await using store = await PostgresStore.open(url);
      const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
      let held: string[] = [];
      while (held.length === 0) {
        if (Date.now() > deadline) throw new Error(`the worker claimed nothing:\n${worker.output()}`);
        const tasks = await store.listTasks({ statuses: ['in_progress'] });
        held = tasks.filter((task) => task.claimedBy?.startsWith('worker:') === true).map((task) => task.id);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      worker.process.kill('SIGINT');
      expect(await worker.exited, worker.output()).toBe(130);
      const released = await store.listEvents({ types: ['task.released'] });
      for (const taskId of held) expect(released.map((event) => event.taskId)).toContain(taskId);
      const afterStop = await store.listTasks();
      for (const task of afterStop) expect(task.claimedBy?.startsWith('worker:') ?? false).toBe(false);
      coordinator.process.kill('SIGINT');
      expect(await coordinator.exited, coordinator.output()).toBe(130);
    }, 300_000);
  },
);
