/**
 * The merge hand-off between machines (DESIGN.md §3 Store and distribution), against a real
 * PostgreSQL server and real git: a bare repository stands in for the shared remote, a worker's
 * clone pushes task branches and asks through the store, and the merge coordinator (holding its
 * advisory lock) merges them on its own clone and pushes main.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CoordinatorLock,
  GitRemoteSync,
  MergeCoordinator,
  RemoteMerger,
  RemoteRetry,
} from '../src/distributed/index.ts';
import { MergeQueue, type MergeResult } from '../src/orchestrator/index.ts';
import { TaskQueue } from '../src/queue/index.ts';
import { buildSandboxEnvironment, PlainRunner } from '../src/sandbox/index.ts';
import { PostgresStore } from '../src/store/index.ts';
import { gitOutput as git } from './support/git.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';
import { ChildProcessRegistry, waitForOutput } from './support/supervised-child.ts';

const binaries = findPostgresBinaries();
/** Deadline for a condition the test waits on; never a measure of speed. */
const WAIT_LIMIT_MILLISECONDS = 120_000;
const RUN_ID = 'run-dist';

describe.skipIf('missing' in binaries)(
  `merging across machines${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    const children = new ChildProcessRegistry();
    const started = usePostgresServer(binaries);
    let database = '';
    let root: string;
    let remote: string;
    let coordinatorClone: string;
    let workerClone: string;
    let store: PostgresStore;
    let url: string;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      database = new URL(await started().createDatabase('distributed')).pathname.slice(1);
    }, 180_000);
    beforeEach(async () => {
      root = mkdtempSync(join(tmpdir(), 'loki-distributed-'));
      remote = join(root, 'remote.git');
      git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
      const seed = join(root, 'seed');
      mkdirSync(seed);
      git(seed, 'init', '--quiet', '--initial-branch=main');
      writeFileSync(join(seed, 'shared.txt'), 'line one\n');
      git(seed, 'add', '--all');
      git(seed, 'commit', '--quiet', '-m', 'initial');
      git(seed, 'push', '--quiet', remote, 'main');
      coordinatorClone = join(root, 'coordinator');
      workerClone = join(root, 'worker');
      git(root, 'clone', '--quiet', remote, coordinatorClone);
      git(root, 'clone', '--quiet', remote, workerClone);
      url = await started().createSchema(database);
      store = await PostgresStore.open(url);
      await store.createRun({ id: RUN_ID, prdPath: null, phase: 'development' });
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await children.killAll();
      await store.close();
      rmSync(root, { recursive: true, force: true });
    });

    /** A task claimed by `workerId`, with its branch in the worker's clone writing `files`. */
    async function claimedTask(
      taskId: string,
      workerId: string,
      files: Record<string, string>,
    ): Promise<void> {
      const queue = new TaskQueue(store);
      await queue.enqueue({ id: taskId, type: 'eng-backend', title: `Write ${taskId}`, runId: RUN_ID });
      expect((await queue.claim({ workerId, taskId }))?.id).toBe(taskId);
      git(workerClone, 'checkout', '--quiet', '-b', `loki/${taskId}`, 'origin/main');
      for (const [name, content] of Object.entries(files)) writeFileSync(join(workerClone, name), content);
      git(workerClone, 'add', '--all');
      git(workerClone, 'commit', '--quiet', '-m', `work of ${taskId}`);
      git(workerClone, 'checkout', '--quiet', '--detach');
    }

    /**
     * This process as the coordinator: its lock, its merge queue on its clone, deciding requests.
     * Returns what it found fatal (the test's cleanup expects nothing).
     */
    async function startCoordinator(retry?: RemoteRetry): Promise<unknown[]> {
      const lock = await CoordinatorLock.acquire({ storeUrl: url, runId: RUN_ID });
      const mergeQueue = new MergeQueue({
        repositoryRoot: coordinatorClone,
        workDirectory: join(root, 'coordinator-work'),
        commandRunner: new PlainRunner(),
        verifyEnvironment: buildSandboxEnvironment(process.env),
      });
      const stop = new AbortController();
      const failures: unknown[] = [];
      const coordinator = new MergeCoordinator({
        store,
        queue: new TaskQueue(store),
        runId: RUN_ID,
        repositoryRoot: coordinatorClone,
        remoteUrl: remote,
        mainBranch: 'main',
        mergeQueue,
        signal: AbortSignal.any([stop.signal, lock.lost]),
        onFatal: (error) => failures.push(error),
        pollMilliseconds: 500,
        ...(retry === undefined ? {} : { retry }),
      });
      coordinator.start();
      cleanups.push(async () => {
        stop.abort();
        await coordinator.stopped();
        await mergeQueue.close();
        await lock.release();
        expect(failures).toEqual([]);
      });
      return failures;
    }

    function requestMerge(
      taskId: string,
      workerId: string,
      verifyCommands: string[] = [],
    ): Promise<MergeResult> {
      const merger = new RemoteMerger({
        repositoryRoot: workerClone,
        remoteUrl: remote,
        store,
        runId: RUN_ID,
        pollMilliseconds: 500,
      });
      return merger.merge({
        taskId,
        agentType: 'eng-backend',
        title: `Write ${taskId}`,
        branch: `loki/${taskId}`,
        verifyCommands,
        workerId,
        trailers: { 'Loki-Task': taskId },
      });
    }

    function remoteMainFiles(): string[] {
      return git(remote, 'ls-tree', '-r', '--name-only', 'main').split('\n');
    }

    it('merges a worker’s pushed branch onto the remote’s main, and answers a conflict as such', async () => {
      await startCoordinator();
      await claimedTask('a', 'w1', { 'a.txt': 'a\n', 'shared.txt': 'line one\nfrom a\n' });
      const merged = await requestMerge('a', 'w1');
      expect(merged.outcome).toBe('merged');
      if (merged.outcome !== 'merged') return;
      expect(git(remote, 'rev-parse', 'main')).toBe(merged.commit);
      expect(remoteMainFiles()).toContain('a.txt');
      expect(git(remote, 'log', '-1', '--format=%(trailers:key=Loki-Task,valueonly)', 'main')).toBe('a');

      // b branched from the old main and changes the same line: a conflict, main untouched.
      await claimedTask('b', 'w1', { 'shared.txt': 'line one\nfrom b\n' });
      const conflict = await requestMerge('b', 'w1');
      expect(conflict.outcome).toBe('conflict');
      if (conflict.outcome === 'conflict') expect(conflict.files).toContain('shared.txt');
      expect(git(remote, 'rev-parse', 'main')).toBe(merged.commit);
      const decided = await store.listEvents({ types: ['merge.decided'] });
      expect(decided.map((event) => event.type === 'merge.decided' && event.data.outcome)).toEqual([
        'merged',
        'conflict',
      ]);
    }, 120_000);

    it('withdraws a request from a worker that no longer holds the task', async () => {
      await startCoordinator();
      await claimedTask('c', 'w-new', { 'c.txt': 'c\n' });
      // The request names w-old: its lease was lost and w-new holds the task now.
      const result = await requestMerge('c', 'w-old');
      expect(result.outcome).toBe('withdrawn');
      expect(remoteMainFiles()).not.toContain('c.txt');
      const [decision] = await store.listEvents({ types: ['merge.decided'] });
      expect(decision?.type === 'merge.decided' && decision.data.details).toContain('no longer holds');
    }, 120_000);

    it('decides a request main already holds (a coordinator died after pushing) merged, alreadyOnMain, merging nothing twice', async () => {
      await claimedTask('d', 'w1', { 'd.txt': 'd\n' });
      const merger = requestMerge('d', 'w1');
      await waitForEvent('merge.requested');
      // The coordinator that died: it merged d and pushed main, then was killed before deciding.
      git(coordinatorClone, 'fetch', '--quiet', remote, 'refs/heads/loki/d');
      git(coordinatorClone, 'merge', '--quiet', '--squash', 'FETCH_HEAD');
      git(coordinatorClone, 'commit', '--quiet', '-m', 'checkpoint of d', '--trailer', 'Loki-Task: d');
      git(coordinatorClone, 'push', '--quiet', remote, 'main');
      const pushedMain = git(remote, 'rev-parse', 'main');
      // Its clone is gone with it: the next coordinator starts from a clone made before the push.
      rmSync(coordinatorClone, { recursive: true, force: true });
      git(root, 'clone', '--quiet', remote, coordinatorClone);
      git(coordinatorClone, 'reset', '--quiet', '--hard', 'HEAD~1');

      await startCoordinator();
      const result = await merger;
      expect(result).toEqual({ outcome: 'merged', commit: pushedMain, previousMain: expect.any(String) });
      const [decision] = await store.listEvents({ types: ['merge.decided'] });
      expect(decision?.type === 'merge.decided' && decision.data.alreadyOnMain).toBe(true);
      expect(git(remote, 'rev-parse', 'main')).toBe(pushedMain);
      expect(
        git(remote, 'log', '--format=%s', 'main')
          .split('\n')
          .filter((subject) => subject.includes(' d')),
      ).toEqual(['checkpoint of d']);
    }, 120_000);

    it('decides requests that waited together as one batch: every task merged once, main pushed once', async () => {
      // The remote counts the updates of its main it receives.
      const pushLog = join(root, 'main-pushes.log');
      const hook = join(remote, 'hooks', 'post-receive');
      writeFileSync(hook, `#!/bin/sh\ngrep ' refs/heads/main$' >> '${pushLog}' || true\n`);
      chmodSync(hook, 0o755);
      const taskIds = ['e', 'f', 'g'];
      for (const taskId of taskIds)
        await claimedTask(taskId, `w-${taskId}`, { [`${taskId}.txt`]: `${taskId}\n` });
      // Asked before any coordinator runs: the three wait together.
      const results = taskIds.map((taskId) => requestMerge(taskId, `w-${taskId}`));
      await pollUntilAsync(
        async () => (await store.listEvents({ types: ['merge.requested'] })).length === taskIds.length,
        'the three merge requests',
      );
      await startCoordinator();
      expect((await Promise.all(results)).map((result) => result.outcome)).toEqual([
        'merged',
        'merged',
        'merged',
      ]);
      const onMain = git(remote, 'log', '--format=%(trailers:key=Loki-Task,valueonly)', 'main')
        .split('\n')
        .filter((line) => line !== '');
      expect(onMain.toSorted()).toEqual(taskIds);
      expect(readFileSync(pushLog, 'utf8').trim().split('\n')).toHaveLength(1);
    }, 120_000);

    it('checks and fetches a request that comes while a batch is merged, without waiting for that batch’s decision', async () => {
      await startCoordinator();
      const release = join(root, 'release');
      await claimedTask('p', 'w-p', { 'p.txt': 'p\n' });
      // p's verification holds its batch until the test lets it go.
      const first = requestMerge('p', 'w-p', [`until [ -e '${release}' ]; do sleep 0.05; done`]);
      await pollUntil(
        () => hasRef(coordinatorClone, 'refs/loki/remote/loki/p'),
        'p fetched by the coordinator',
      );
      await claimedTask('q', 'w-q', { 'q.txt': 'q\n' });
      const second = requestMerge('q', 'w-q');
      await pollUntil(
        () => hasRef(coordinatorClone, 'refs/loki/remote/loki/q'),
        'q fetched while p’s batch is merged',
      );
      expect(await store.listEvents({ types: ['merge.decided'] })).toEqual([]);
      writeFileSync(release, '');
      expect((await first).outcome).toBe('merged');
      expect((await second).outcome).toBe('merged');
      expect(remoteMainFiles()).toEqual(expect.arrayContaining(['p.txt', 'q.txt']));
    }, 300_000);

    it('brings a worker’s clone in step once for tasks it claimed together, main moved and a branch taken over', async () => {
      // Since the worker cloned: main moved on the remote, and an earlier holder pushed loki/taken.
      writeFileSync(join(coordinatorClone, 'later.txt'), 'later\n');
      git(coordinatorClone, 'add', '--all');
      git(coordinatorClone, 'commit', '--quiet', '-m', 'main moves on');
      git(coordinatorClone, 'push', '--quiet', remote, 'main', 'main:loki/taken');
      let mainMoves = 0;
      const sync = new GitRemoteSync({
        repositoryRoot: workerClone,
        remoteUrl: remote,
        mainBranch: 'main',
        followMain: true,
        onMainMoved: async () => {
          mainMoves += 1;
        },
      });
      const signal = new AbortController().signal;
      const taskIds = ['taken', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
      await Promise.all(taskIds.map((taskId) => sync.prepareTask(taskId, signal)));
      expect(git(workerClone, 'rev-parse', 'refs/heads/main')).toBe(git(remote, 'rev-parse', 'main'));
      expect(git(workerClone, 'rev-parse', 'refs/heads/loki/taken')).toBe(
        git(remote, 'rev-parse', 'loki/taken'),
      );
      expect(mainMoves).toBe(1);
    }, 120_000);

    it('fetches a pushed commit its clone holds only in part (cloned from a path during a push), and merges it whole', async () => {
      await claimedTask('part', 'w1', { 'part.txt': 'part\n' });
      // The commit object without its tree: what a local clone copies while a push is being received.
      plantCommitAlone(workerClone, git(workerClone, 'rev-parse', 'loki/part'), coordinatorClone);
      await startCoordinator();
      const merged = await requestMerge('part', 'w1');
      expect(merged.outcome, JSON.stringify(merged)).toBe('merged');
      expect(remoteMainFiles()).toContain('part.txt');
    }, 120_000);

    it('fetches a task branch its clone holds only in part before a worker works on it', async () => {
      writeFileSync(join(coordinatorClone, 'taken.txt'), 'taken\n');
      git(coordinatorClone, 'add', '--all');
      git(coordinatorClone, 'commit', '--quiet', '-m', 'an earlier holder of the task');
      git(coordinatorClone, 'push', '--quiet', remote, 'HEAD:loki/partial');
      plantCommitAlone(coordinatorClone, git(coordinatorClone, 'rev-parse', 'HEAD'), workerClone);
      const sync = new GitRemoteSync({
        repositoryRoot: workerClone,
        remoteUrl: remote,
        mainBranch: 'main',
        followMain: true,
      });
      await sync.prepareTask('partial', new AbortController().signal);
      expect(git(workerClone, 'show', 'loki/partial:taken.txt')).toBe('taken');
    }, 120_000);

    it('goes on deciding when the remote is gone for a moment: its git is tried again, nothing is fatal', async () => {
      await claimedTask('r', 'w1', { 'r.txt': 'r\n' });
      const merger = requestMerge('r', 'w1');
      await waitForEvent('merge.requested');
      // The remote goes away before the coordinator reaches it, and is back after one wait.
      renameSync(remote, `${remote}.away`);
      const waits: number[] = [];
      const retry = new RemoteRetry({
        remoteUrl: remote,
        requeueMilliseconds: null,
        sleep: async (milliseconds) => {
          waits.push(milliseconds);
          renameSync(`${remote}.away`, remote);
        },
      });
      const failures = await startCoordinator(retry);
      const fatal = pollUntilAsync(async () => failures.length > 0, 'a fatal coordinator failure').then(
        () => ({ outcome: 'fatal', failures }),
      );
      const result = await Promise.race([merger, fatal]);
      expect(result.outcome).toBe('merged');
      expect(waits).toEqual([1000]);
      expect(remoteMainFiles()).toContain('r.txt');
    }, 120_000);

    it('frees the lock when its holder is killed with SIGKILL, and another process takes it', async () => {
      const holder = children.start(
        'holder',
        join(import.meta.dirname, 'support', 'coordinator-lock-holder.ts'),
        [url, RUN_ID],
        {
          stdin: 'pipe',
        },
      );
      await waitForOutput([holder], () => holder.lines.includes('locked'), {
        description: 'the holder to take the lock',
        timeoutMilliseconds: WAIT_LIMIT_MILLISECONDS,
      });
      let isWaiting = false;
      const taking = CoordinatorLock.acquire({
        storeUrl: url,
        runId: RUN_ID,
        pollMilliseconds: 200,
        onWaiting: () => {
          isWaiting = true;
        },
      });
      await pollUntil(() => isWaiting, 'the second process to wait for the lock');
      await holder.kill();
      const lock = await taking;
      expect(lock.lost.aborted).toBe(false);
      await lock.release();
    }, 120_000);

    async function waitForEvent(type: 'merge.requested'): Promise<void> {
      await pollUntilAsync(
        async () => (await store.listEvents({ types: [type] })).length > 0,
        `a ${type} event`,
      );
    }
  },
);

/** Whether `ref` exists in `repository` (show-ref: 0 yes, 1 no, anything else a failure). */
/** Writes `commit` of `from` into `to` as a lone object, without its tree or parents' objects. */
function plantCommitAlone(from: string, commit: string, to: string): void {
  const raw = spawnSync('git', ['cat-file', 'commit', commit], { cwd: from, encoding: 'utf8' }).stdout;
  const written = spawnSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'], {
    cwd: to,
    input: raw,
    encoding: 'utf8',
  }).stdout.trim();
  expect(written).toBe(commit);
  expect(spawnSync('git', ['ls-tree', commit], { cwd: to }).status).not.toBe(0);
}

function hasRef(repository: string, ref: string): boolean {
  const result = spawnSync('git', ['show-ref', '--verify', '--quiet', ref], { cwd: repository });
  if (result.status !== 0 && result.status !== 1) throw new Error(`git show-ref failed in ${repository}`);
  return result.status === 0;
}

async function pollUntil(condition: () => boolean, description: string): Promise<void> {
  await pollUntilAsync(async () => condition(), description);
}

async function pollUntilAsync(condition: () => Promise<boolean>, description: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`no ${description} within ${WAIT_LIMIT_MILLISECONDS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
