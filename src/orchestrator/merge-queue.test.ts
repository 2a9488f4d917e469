import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildSandboxEnvironment,
  type CommandRequest,
  type CommandResult,
  type CommandRunner,
  PlainRunner,
} from '../sandbox/index.ts';
import { MergeQueue, type MergeRequest } from './merge-queue.ts';
import { gitOutput } from '../../test/support/git.ts';

const git = gitOutput;

/** Records when each verify command starts and ends, so a test can see whether merges interleave. */
class RecordingRunner implements CommandRunner {
  readonly kind = 'plain';
  readonly events: string[] = [];
  readonly #inner: CommandRunner;
  readonly #beforeRun: ((request: CommandRequest) => void) | undefined;

  constructor(inner: CommandRunner, beforeRun?: (request: CommandRequest) => void) {
    this.#inner = inner;
    this.#beforeRun = beforeRun;
  }

  async run(request: CommandRequest): Promise<CommandResult> {
    this.events.push(`start ${request.command}`);
    this.#beforeRun?.(request);
    const result = await this.#inner.run(request);
    this.events.push(`end ${request.command}`);
    return result;
  }
}

describe('MergeQueue', () => {
  let repository: string;
  let workDirectory: string;

  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), 'loki-merge-queue-'));
    workDirectory = mkdtempSync(join(tmpdir(), 'loki-merge-queue-work-'));
    git(repository, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repository, 'shared.txt'), 'line one\nline two\n');
    git(repository, 'add', '--all');
    git(repository, 'commit', '--quiet', '-m', 'initial');
  });
  afterEach(() => {
    rmSync(repository, { recursive: true, force: true });
    rmSync(workDirectory, { recursive: true, force: true });
  });

  function createQueue(runner: CommandRunner = new PlainRunner()): MergeQueue {
    return new MergeQueue({
      repositoryRoot: repository,
      workDirectory,
      commandRunner: runner,
      verifyEnvironment: buildSandboxEnvironment(process.env),
      verifyTimeoutMilliseconds: 30_000,
    });
  }

  /** A task branch from `base` with one commit per entry of `commits` (each a set of file writes). */
  function createBranch(taskId: string, commits: Record<string, string>[], base = 'main'): string {
    const branch = `loki/${taskId}`;
    const path = join(workDirectory, `task-${taskId}`);
    git(repository, 'worktree', 'add', '--quiet', '-b', branch, path, base);
    commits.forEach((files, index) => {
      for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content);
      git(path, 'add', '--all');
      git(path, 'commit', '--quiet', '-m', `wip ${index + 1} of ${taskId}`);
    });
    git(repository, 'worktree', 'remove', '--force', path);
    return branch;
  }

  function request(taskId: string, branch: string, verifyCommands: string[] = []): MergeRequest {
    return { taskId, agentType: 'eng-backend', title: `work on ${taskId}`, branch, verifyCommands };
  }

  function mainSubjects(): string[] {
    return git(repository, 'log', '--format=%s', 'main').split('\n');
  }

  it('merges two independent branches in order as one checkpoint commit each', async () => {
    await using queue = createQueue();
    const first = createBranch('task-1', [{ 'a.txt': 'a1\n' }, { 'a.txt': 'a2\n' }]);
    const second = createBranch('task-2', [{ 'b.txt': 'b\n' }]);
    const firstBranchTip = git(repository, 'rev-parse', first);

    const firstResult = await queue.merge(request('task-1', first, ['test "$(cat a.txt)" = a2']));
    const secondResult = await queue.merge(request('task-2', second, ['test -f a.txt && test -f b.txt']));

    expect(firstResult.outcome).toBe('merged');
    expect(secondResult).toMatchObject({ outcome: 'merged', commit: git(repository, 'rev-parse', 'main') });
    expect(mainSubjects()).toEqual([
      '[Loki] eng-backend-task-2: work on task-2',
      '[Loki] eng-backend-task-1: work on task-1',
      'initial',
    ]);
    expect(git(repository, 'log', '-1', '--format=%an <%ae>|%cn', 'main')).toBe(
      'Loki Mode <loki-mode@localhost>|Loki Mode',
    );
    expect(git(repository, 'show', 'main:a.txt')).toBe('a2');
    // The task branch itself is left alone.
    expect(git(repository, 'rev-parse', first)).toBe(firstBranchTip);
    // main is checked out in the repository: its files and index follow main.
    expect(readFileSync(join(repository, 'b.txt'), 'utf8')).toBe('b\n');
    expect(git(repository, 'status', '--porcelain')).toBe('');

    await queue.close();
    expect(existsSync(queue.integrationPath)).toBe(false);
    expect(git(repository, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('reports a conflict with the file name and leaves main untouched', async () => {
    await using queue = createQueue();
    const first = createBranch('task-1', [{ 'shared.txt': 'line one from task 1\nline two\n' }]);
    const second = createBranch('task-2', [{ 'shared.txt': 'line one from task 2\nline two\n' }]);

    expect((await queue.merge(request('task-1', first))).outcome).toBe('merged');
    const mainBefore = git(repository, 'rev-parse', 'main');
    const result = await queue.merge(request('task-2', second, ['echo should-not-run; exit 1']));

    expect(result).toMatchObject({ outcome: 'conflict', files: ['shared.txt'] });
    expect(result.outcome === 'conflict' ? result.details : '').toContain('shared.txt');
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);
    expect(readFileSync(join(repository, 'shared.txt'), 'utf8')).toBe('line one from task 1\nline two\n');
    // The queue is usable after a conflict (the aborted rebase left nothing behind).
    const third = createBranch('task-3', [{ 'c.txt': 'c\n' }]);
    expect((await queue.merge(request('task-3', third))).outcome).toBe('merged');
  });

  it('never moves main to what git could not read: a commit whose tree is missing is refused, main untouched', async () => {
    await using queue = createQueue();
    // The commit made elsewhere, and only its object written here (its tree and file are not).
    const elsewhere = join(workDirectory, 'elsewhere');
    git(workDirectory, 'clone', '--quiet', repository, elsewhere);
    writeFileSync(join(elsewhere, 'lost.txt'), 'lost\n');
    git(elsewhere, 'add', '--all');
    git(elsewhere, 'commit', '--quiet', '-m', 'work whose tree is not here');
    const commit = git(elsewhere, 'rev-parse', 'HEAD');
    const raw = execFileSync('git', ['cat-file', 'commit', commit], { cwd: elsewhere });
    execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'], {
      cwd: repository,
      input: raw,
    });
    const mainBefore = git(repository, 'rev-parse', 'main');

    const result = await queue.merge(request('task-1', commit)).catch((error: unknown) => error);

    expect(result).not.toMatchObject({ outcome: 'merged' });
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);
    expect(git(repository, 'ls-tree', '--name-only', 'main')).toBe('shared.txt');
  });

  it('reports a failed verification with the command, exit code and output, and leaves main untouched', async () => {
    await using queue = createQueue();
    const branch = createBranch('task-1', [{ 'a.txt': 'a\n' }]);
    const mainBefore = git(repository, 'rev-parse', 'main');

    const result = await queue.merge(
      request('task-1', branch, ['true', 'echo tests are red >&2; exit 3', 'true']),
    );

    expect(result).toEqual({
      outcome: 'verification_failed',
      command: 'echo tests are red >&2; exit 3',
      exitCode: 3,
      outputTail: 'tests are red',
    });
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);
    expect(existsSync(join(repository, 'a.txt'))).toBe(false);
  });

  it('serialises concurrent merges: no interleaving, both merged', async () => {
    const runner = new RecordingRunner(new PlainRunner());
    await using queue = createQueue(runner);
    const first = createBranch('task-1', [{ 'a.txt': 'a\n' }]);
    const second = createBranch('task-2', [{ 'b.txt': 'b\n' }]);

    const merging = queue.merge(request('task-1', first, ['test -f a.txt', 'test ! -f b.txt']));
    // A later turn of the event loop: the first merge is under way (handed over in the same turn,
    // the two would be one batch).
    await new Promise((resolve) => setImmediate(resolve));
    const results = await Promise.all([
      merging,
      queue.merge(request('task-2', second, ['test -f a.txt && test -f b.txt'])),
    ]);

    expect(results.map((result) => result.outcome)).toEqual(['merged', 'merged']);
    // A merge's commands run together in one sandboxed shell.
    expect(runner.events).toEqual([
      'start ( test -f a.txt\n) && ( test ! -f b.txt\n)',
      'end ( test -f a.txt\n) && ( test ! -f b.txt\n)',
      'start test -f a.txt && test -f b.txt',
      'end test -f a.txt && test -f b.txt',
    ]);
    expect(mainSubjects()).toHaveLength(3);
  });

  it('merges branches made from an older main the same whether git files are loose or packed', async () => {
    await using queue = createQueue();
    const initial = git(repository, 'rev-parse', 'main');
    const first = createBranch('task-1', [{ 'a.txt': 'a\n' }]);
    const second = createBranch('task-2', [{ 'b.txt': 'b\n' }]);
    const third = createBranch('task-3', [{ 'c.txt': 'c1\n' }, { 'c.txt': 'c2\n', 'd.txt': 'd\n' }]);
    expect((await queue.merge(request('task-1', first, ['test -f a.txt']))).outcome).toBe('merged');
    // One commit on a main the queue saw: the shape is read from git's loose files.
    const secondResult = await queue.merge(request('task-2', second, ['test -f a.txt && test -f b.txt']));
    // Refs and objects packed: the queue has to ask git, and gets the same answer.
    git(repository, 'gc', '--quiet');
    const thirdResult = await queue.merge(request('task-3', third, ['test "$(cat c.txt)" = c2']));

    expect(secondResult).toMatchObject({ outcome: 'merged' });
    expect(thirdResult).toMatchObject({ outcome: 'merged', commit: git(repository, 'rev-parse', 'main') });
    expect(mainSubjects()).toEqual([
      '[Loki] eng-backend-task-3: work on task-3',
      '[Loki] eng-backend-task-2: work on task-2',
      '[Loki] eng-backend-task-1: work on task-1',
      'initial',
    ]);
    expect(git(repository, 'ls-tree', '--name-only', 'main').split('\n')).toEqual([
      'a.txt',
      'b.txt',
      'c.txt',
      'd.txt',
      'shared.txt',
    ]);
    expect(git(repository, 'show', 'main:c.txt')).toBe('c2');
    // Each checkpoint has exactly one parent: the main before it.
    expect(git(repository, 'rev-list', '--parents', '-n', '1', 'main~2').split(' ')).toEqual([
      git(repository, 'rev-parse', 'main~2'),
      initial,
    ]);
  });

  it('rebases a branch made from an older main onto the current main', async () => {
    await using queue = createQueue();
    const branch = createBranch('task-1', [{ 'a.txt': 'a\n' }]);
    writeFileSync(join(repository, 'later.txt'), 'committed on main after the branch\n');
    git(repository, 'add', '--all');
    git(repository, 'commit', '--quiet', '-m', 'main moved');
    const movedMain = git(repository, 'rev-parse', 'main');

    const result = await queue.merge(request('task-1', branch, ['test -f a.txt && test -f later.txt']));

    expect(result).toMatchObject({ outcome: 'merged', previousMain: movedMain });
    expect(git(repository, 'rev-parse', 'main^')).toBe(movedMain);
    expect(git(repository, 'ls-tree', '--name-only', 'main').split('\n')).toEqual([
      'a.txt',
      'later.txt',
      'shared.txt',
    ]);
  });

  it('never overwrites a main that moved during verification: it starts over on the new main', async () => {
    let hasMovedMain = false;
    const runner = new RecordingRunner(new PlainRunner(), () => {
      if (hasMovedMain) return;
      hasMovedMain = true;
      writeFileSync(join(repository, 'racer.txt'), 'someone else\n');
      git(repository, 'add', '--all');
      git(repository, 'commit', '--quiet', '-m', 'concurrent commit on main');
    });
    await using queue = createQueue(runner);
    const branch = createBranch('task-1', [{ 'a.txt': 'a\n' }]);

    const result = await queue.merge(request('task-1', branch, ['test -f a.txt']));

    expect(result.outcome).toBe('merged');
    expect(runner.events).toHaveLength(4);
    expect(mainSubjects()).toEqual([
      '[Loki] eng-backend-task-1: work on task-1',
      'concurrent commit on main',
      'initial',
    ]);
  });

  it('records a checkpoint even for a branch with nothing new, and skips the project git hooks', async () => {
    await using queue = createQueue();
    const branch = createBranch('task-1', []);
    const hookMarker = join(workDirectory, 'hook-ran');
    writeFileSync(join(repository, '.git', 'hooks', 'post-checkout'), `#!/bin/sh\ntouch ${hookMarker}\n`, {
      mode: 0o755,
    });

    const result = await queue.merge(request('task-1', branch, ['true']));

    expect(result.outcome).toBe('merged');
    expect(mainSubjects()).toEqual(['[Loki] eng-backend-task-1: work on task-1', 'initial']);
    expect(existsSync(hookMarker)).toBe(false);
  });

  it('never clobbers local edits in the checkout of main: it says the checkout is stale instead', async () => {
    await using queue = createQueue();
    const branch = createBranch('task-1', [{ 'shared.txt': 'line one from task 1\nline two\n' }]);
    writeFileSync(join(repository, 'shared.txt'), 'an edit the user has not committed\n');

    const result = await queue.merge(request('task-1', branch));

    expect(result).toMatchObject({ outcome: 'merged', staleCheckout: { path: repository } });
    expect(git(repository, 'show', 'main:shared.txt')).toBe('line one from task 1\nline two');
    expect(readFileSync(join(repository, 'shared.txt'), 'utf8')).toBe('an edit the user has not committed\n');
  });

  it('recovers from a process killed mid-rebase: main untouched, the next queue merges normally', async () => {
    const first = createBranch('task-1', [{ 'shared.txt': 'line one from task 1\nline two\n' }]);
    const second = createBranch('task-2', [{ 'shared.txt': 'line one from task 2\nline two\n' }]);
    const crashed = createQueue();
    expect((await crashed.merge(request('task-1', first))).outcome).toBe('merged');
    const mainBefore = git(repository, 'rev-parse', 'main');
    // What a kill -9 in the middle of a conflicting rebase leaves behind, plus stray files.
    const integration = crashed.integrationPath;
    git(integration, 'checkout', '--quiet', '--detach', second);
    expect(() => git(integration, 'rebase', mainBefore)).toThrow();
    writeFileSync(join(integration, 'stray.txt'), 'left by a verify command\n');

    await using queue = createQueue();
    const third = createBranch('task-3', [{ 'c.txt': 'c\n' }]);
    const result = await queue.merge(request('task-3', third, ['test ! -f stray.txt && test -f c.txt']));

    expect(result).toMatchObject({ outcome: 'merged', previousMain: mainBefore });
    expect(git(repository, 'show', 'main:shared.txt')).toBe('line one from task 1\nline two');
  });

  it('leaves main untouched when aborted during verification, and recovers on the next merge', async () => {
    await using queue = createQueue();
    const branch = createBranch('task-1', [{ 'a.txt': 'a\n' }]);
    const mainBefore = git(repository, 'rev-parse', 'main');
    const controller = new AbortController();
    const aborted = queue.merge({
      ...request('task-1', branch, [`touch ${join(workDirectory, 'started')}; sleep 30`]),
      signal: controller.signal,
    });
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(workDirectory, 'started')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort(new Error('stopped by test'));

    await expect(aborted).rejects.toThrow('stopped by test');
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);
    expect((await queue.merge(request('task-1', branch, ['test -f a.txt']))).outcome).toBe('merged');
  });

  describe('batches', () => {
    /** A first merge keeps the queue busy, so the next ones queue up and are taken together. */
    async function mergeBehindAFirst(queue: MergeQueue, requests: MergeRequest[]) {
      const first = queue.merge(request('task-0', createBranch('task-0', [{ 'zero.txt': '0\n' }])));
      // The queue takes what was handed over in the same turn of the event loop as one batch:
      // the first one goes alone only once that turn has passed.
      await new Promise((resolve) => setImmediate(resolve));
      const rest = requests.map((next) => queue.merge(next));
      return Promise.all([first, ...rest]);
    }

    it('takes merges handed over in the same turn as one batch, verified once', async () => {
      const runner = new RecordingRunner(new PlainRunner());
      await using queue = createQueue(runner);
      const b = createBranch('task-b', [{ 'b.txt': 'b\n' }]);
      const c = createBranch('task-c', [{ 'c.txt': 'c\n' }]);
      const results = await Promise.all([
        queue.merge(request('task-b', b, ['test -f b.txt'])),
        queue.merge(request('task-c', c, ['test -f c.txt'])),
      ]);
      expect(results.map((result) => result.outcome)).toEqual(['merged', 'merged']);
      expect(runner.events.filter((event) => event.startsWith('start'))).toEqual([
        'start ( test -f b.txt\n) && ( test -f c.txt\n)',
      ]);
    });

    it('merges waiting branches together: one checkpoint each, verified once on the result, main moved once', async () => {
      const runner = new RecordingRunner(new PlainRunner());
      await using queue = createQueue(runner);
      const b = createBranch('task-b', [{ 'b.txt': 'b\n' }]);
      const c = createBranch('task-c', [{ 'c.txt': 'c\n' }]);
      const results = await mergeBehindAFirst(queue, [
        request('task-b', b, ['test -f b.txt', 'test -f zero.txt']),
        request('task-c', c, ['test -f c.txt', 'test -f zero.txt']),
      ]);
      expect(results.map((result) => result.outcome)).toEqual(['merged', 'merged', 'merged']);
      const [zero, first, second] = results;
      if (zero?.outcome !== 'merged' || first?.outcome !== 'merged' || second?.outcome !== 'merged') return;
      expect(first.previousMain).toBe(zero.commit);
      expect(second.previousMain).toBe(first.commit);
      expect(git(repository, 'rev-parse', 'main')).toBe(second.commit);
      expect(mainSubjects().slice(0, 3)).toEqual([
        '[Loki] eng-backend-task-c: work on task-c',
        '[Loki] eng-backend-task-b: work on task-b',
        '[Loki] eng-backend-task-0: work on task-0',
      ]);
      // Each distinct command once, in one sandboxed run, on the tree holding both branches.
      expect(runner.events.filter((event) => event.startsWith('start'))).toEqual([
        'start ( test -f b.txt\n) && ( test -f zero.txt\n) && ( test -f c.txt\n)',
      ]);
      expect(git(repository, 'reflog', 'show', '--format=%gs', 'main').split('\n')).toHaveLength(3);
      expect(readFileSync(join(repository, 'c.txt'), 'utf8')).toBe('c\n');
    });

    it('falls back to one merge at a time when the batch is red, so only the culprit is refused', async () => {
      await using queue = createQueue();
      const good = createBranch('task-good', [{ 'good.txt': 'good\n' }]);
      const bad = createBranch('task-bad', [{ 'bad.txt': 'bad\n' }]);
      const results = await mergeBehindAFirst(queue, [
        request('task-good', good, ['test -f good.txt']),
        request('task-bad', bad, ['test ! -f bad.txt']),
      ]);
      expect(results.map((result) => result.outcome)).toEqual(['merged', 'merged', 'verification_failed']);
      expect(mainSubjects()[0]).toBe('[Loki] eng-backend-task-good: work on task-good');
      expect(existsSync(join(repository, 'bad.txt'))).toBe(false);
    });

    it('reports a conflict inside a batch like a single merge, merging the others', async () => {
      await using queue = createQueue();
      const left = createBranch('task-left', [{ 'shared.txt': 'left\nline two\n' }]);
      const right = createBranch('task-right', [{ 'shared.txt': 'right\nline two\n' }]);
      const results = await mergeBehindAFirst(queue, [
        request('task-left', left),
        request('task-right', right),
      ]);
      expect(results.map((result) => result.outcome)).toEqual(['merged', 'merged', 'conflict']);
      const conflict = results[2];
      if (conflict?.outcome === 'conflict') expect(conflict.files).toEqual(['shared.txt']);
      expect(readFileSync(join(repository, 'shared.txt'), 'utf8')).toBe('left\nline two\n');
    });
  });
});
