import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { gitOutput as git } from '../../test/support/git.ts';

/** The project's test: the greeting on line one of shared.txt is the one every part relies on. */
const GATE = 'test "$(head -n 1 shared.txt)" = "line one"';

class CountingRunner implements CommandRunner {
  readonly kind = 'plain';
  readonly commands: string[] = [];
  readonly #inner = new PlainRunner();
  async run(request: CommandRequest): Promise<CommandResult> {
    this.commands.push(request.command);
    return this.#inner.run(request);
  }
}

describe('MergeQueue with project gates', () => {
  let repository: string;
  let workDirectory: string;

  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), 'loki-merge-gates-'));
    workDirectory = mkdtempSync(join(tmpdir(), 'loki-merge-gates-work-'));
    git(repository, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repository, 'shared.txt'), 'line one\nline two\n');
    git(repository, 'add', '--all');
    git(repository, 'commit', '--quiet', '-m', 'initial');
  });
  afterEach(() => {
    rmSync(repository, { recursive: true, force: true });
    rmSync(workDirectory, { recursive: true, force: true });
  });

  function createQueue(gates: string[], runner: CommandRunner = new PlainRunner()): MergeQueue {
    return new MergeQueue({
      repositoryRoot: repository,
      workDirectory,
      commandRunner: runner,
      verifyEnvironment: buildSandboxEnvironment(process.env),
      verifyTimeoutMilliseconds: 30_000,
      projectGates: () => gates,
    });
  }

  function createBranch(taskId: string, files: Record<string, string | null>): string {
    const branch = `loki/${taskId}`;
    const path = join(workDirectory, `task-${taskId}`);
    git(repository, 'worktree', 'add', '--quiet', '-b', branch, path, 'main');
    for (const [name, content] of Object.entries(files)) {
      if (content === null) git(path, 'rm', '--quiet', name);
      else writeFileSync(join(path, name), content);
    }
    git(path, 'add', '--all');
    git(path, 'commit', '--quiet', '--allow-empty', '-m', `work of ${taskId}`);
    git(repository, 'worktree', 'remove', '--force', path);
    return branch;
  }

  function request(
    taskId: string,
    files: Record<string, string | null>,
    verifyCommands = ['true'],
  ): MergeRequest {
    return {
      taskId,
      agentType: 'eng-backend',
      title: `work on ${taskId}`,
      branch: createBranch(taskId, files),
      verifyCommands,
    };
  }

  /** Commits of main's first-parent history on which `command` fails, each checked out afresh. */
  function redCommitsOnMain(command: string): string[] {
    const red: string[] = [];
    for (const commit of git(repository, 'rev-list', '--first-parent', 'main').split('\n')) {
      const copy = mkdtempSync(join(tmpdir(), 'loki-merge-gates-commit-'));
      try {
        execFileSync('sh', [
          '-c',
          'git -C "$1" archive "$2" | tar -x -C "$3"',
          'sh',
          repository,
          commit,
          copy,
        ]);
        if (spawnSync('sh', ['-c', command], { cwd: copy }).status !== 0) red.push(commit);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
    return red;
  }

  it("refuses a merge that breaks a project gate even though the task's own commands pass", async () => {
    await using queue = createQueue([GATE]);
    const mainBefore = git(repository, 'rev-parse', 'main');
    const result = await queue.merge(
      request('shout', { 'shared.txt': 'LINE ONE\nline two\n' }, ['grep -q "LINE ONE" shared.txt']),
    );
    expect(result).toMatchObject({ outcome: 'verification_failed', command: GATE, exitCode: 1 });
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);
  });

  it('tolerates a gate that main already fails, and holds main to every gate it passes', async () => {
    const notice = 'test -f NOTICE';
    await using queue = createQueue([GATE, notice]);
    // main has no NOTICE yet: a task that does not add one still merges (main is no worse)...
    expect((await queue.merge(request('a', { 'a.txt': 'a\n' }))).outcome).toBe('merged');
    expect((await queue.merge(request('notice', { NOTICE: 'n\n' }))).outcome).toBe('merged');
    // ...but once main passes it, a task that removes it is refused.
    const removal = await queue.merge(request('drop-notice', { NOTICE: null }));
    expect(removal).toMatchObject({ outcome: 'verification_failed', command: notice });
    expect(git(repository, 'ls-tree', '--name-only', 'main').split('\n')).toContain('NOTICE');
  });

  it('bisects a red batch: the green members merge, only the culprit is refused, main is never red', async () => {
    const runner = new CountingRunner();
    await using queue = createQueue([GATE], runner);
    // A first merge keeps the queue busy; the five after it queue up and are taken as one batch.
    const first = queue.merge(request('first', { 'first.txt': '1\n' }));
    // Handed over in a later turn of the event loop: the first is already on its own.
    await new Promise((resolve) => setImmediate(resolve));
    const members = [
      request('m1', { 'm1.txt': '1\n' }, ['test -f m1.txt']),
      request('m2', { 'm2.txt': '2\n' }, ['test -f m2.txt']),
      request('m3-breaks', { 'shared.txt': 'broken\n' }, ['test -f shared.txt']),
      request('m4', { 'm4.txt': '4\n' }, ['test -f m4.txt']),
      request('m5', { 'm5.txt': '5\n' }, ['test -f m5.txt']),
    ];
    const results = await Promise.all([first, ...members.map((member) => queue.merge(member))]);
    expect(results.map((result) => result.outcome)).toEqual([
      'merged',
      'merged',
      'merged',
      'verification_failed',
      'merged',
      'merged',
    ]);
    expect(results[3]).toMatchObject({ command: GATE });
    expect(git(repository, 'show', 'main:shared.txt')).toBe('line one\nline two');
    expect(redCommitsOnMain(GATE)).toEqual([]);
    // One merge at a time would verify every member on its own (at least ten runs after the first).
    const afterFirst = runner.commands.slice(2);
    expect(afterFirst.length).toBeLessThan(10);
  });

  it('never moves main for a merge that was withdrawn meanwhile (task cancelled), alone or in a batch', async () => {
    await using queue = createQueue([GATE]);
    const mainBefore = git(repository, 'rev-parse', 'main');
    const alone = await queue.merge({
      ...request('cancelled', { 'c.txt': 'c\n' }),
      isWithdrawn: async () => true,
    });
    expect(alone).toEqual({ outcome: 'withdrawn' });
    expect(git(repository, 'rev-parse', 'main')).toBe(mainBefore);

    const first = queue.merge(request('first', { 'first.txt': '1\n' }));
    await new Promise((resolve) => setImmediate(resolve));
    let isCancelled = false;
    const results = await Promise.all([
      first,
      queue.merge({
        ...request('in-batch', { 'in-batch.txt': 'x\n' }),
        // Cancelled while its batch is verified: checked again right before main moves.
        isWithdrawn: async () => {
          const answer = isCancelled;
          isCancelled = true;
          return answer;
        },
      }),
      queue.merge(request('kept', { 'kept.txt': 'k\n' })),
    ]);
    expect(results.map((result) => result.outcome)).toEqual(['merged', 'withdrawn', 'merged']);
    expect(git(repository, 'ls-tree', '--name-only', 'main').split('\n')).not.toContain('in-batch.txt');
    expect(git(repository, 'ls-tree', '--name-only', 'main').split('\n')).toContain('kept.txt');
  });
});
