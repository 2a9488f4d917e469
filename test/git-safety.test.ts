import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  commitCheckpoint,
  createTaskWorktree,
  removeTaskWorktree,
  rollbackWorktree,
  type TaskWorktree,
} from '../src/git/index.ts';
import { BubblewrapRunner, type CommandRunner, createRedactor, PlainRunner } from '../src/sandbox/index.ts';
import { findExecutable } from '../src/sandbox/find-executable.ts';
import { executeTool, gitDiffTool, gitStatusTool } from '../src/tools/index.ts';
import type { ToolContext } from '../src/tools/tool.ts';
import { gitOutput } from './support/git.ts';

/**
 * An agent's commands try to make Loki's own git (which runs on the host, outside the sandbox)
 * execute programs the agent planted. Each planted program would create a marker file in a folder
 * outside the workspace; the markers must stay absent whatever the agent did, with either runner and
 * wherever the workspace lives.
 */
const bubblewrapPath = findExecutable('bwrap', process.env.PATH);

const RUNNERS: { name: string; create: () => CommandRunner | null }[] = [
  { name: 'plain runner', create: () => new PlainRunner() },
  {
    name: 'bubblewrap runner',
    create: () => (bubblewrapPath === undefined ? null : new BubblewrapRunner({ bubblewrapPath })),
  },
];

/** /tmp (hidden by the sandbox's private /tmp) and a place that is not. */
const PARENTS: { name: string; directory: () => string }[] = [
  { name: 'under /tmp', directory: () => tmpdir() },
  { name: 'outside /tmp', directory: () => (existsSync('/var/tmp') ? '/var/tmp' : homedir()) },
];

/** A shell program that records that it ran (and passes its input through, as a filter must). */
function markerProgram(markers: string, name: string): string {
  return `#!/bin/sh\ntouch '${join(markers, name)}'\ncat\n`;
}

/** The agent's commands: its own repository in place of the gitfile, with every kind of program planted. */
function plantOwnRepository(markers: string): string {
  const hooks = ['pre-commit', 'post-commit', 'post-checkout', 'reference-transaction', 'post-index-change'];
  return [
    'rm -rf .git',
    'git init -q .',
    ...hooks.map(
      (hook) =>
        `printf '%s' '${markerProgram(markers, `hook-${hook}`)}' > .git/hooks/${hook} && chmod +x .git/hooks/${hook}`,
    ),
    'mkdir -p planted-hooks',
    ...hooks.map(
      (hook) =>
        `printf '%s' '${markerProgram(markers, `hooks-path-${hook}`)}' > planted-hooks/${hook} && chmod +x planted-hooks/${hook}`,
    ),
    `git config core.hooksPath planted-hooks`,
    `printf '%s' '${markerProgram(markers, 'fsmonitor')}' > .fsmonitor && chmod +x .fsmonitor`,
    `git config core.fsmonitor "$PWD/.fsmonitor"`,
    `printf '%s' '${markerProgram(markers, 'filter')}' > .filter && chmod +x .filter`,
    `git config filter.evil.clean "$PWD/.filter" && git config filter.evil.smudge "$PWD/.filter"`,
    `git config diff.evil.textconv "$PWD/.filter"`,
    "printf '* filter=evil diff=evil\\n' > .gitattributes",
    'echo changed > work.txt',
  ].join('; ');
}

/** A repository prepared elsewhere with planted programs; the agent points the worktree's gitfile at it. */
function prepareForeignRepository(directory: string, markers: string): string {
  mkdirSync(directory, { recursive: true });
  execFileSync('git', ['init', '-q', directory]);
  writeFileSync(join(directory, '.git/hooks/post-commit'), markerProgram(markers, 'foreign-hook'), {
    mode: 0o755,
  });
  writeFileSync(join(directory, 'fsmonitor'), markerProgram(markers, 'foreign-fsmonitor'), { mode: 0o755 });
  execFileSync('git', ['config', 'core.fsmonitor', join(directory, 'fsmonitor')], { cwd: directory });
  return join(directory, '.git');
}

describe.each(RUNNERS)('git safety with the $name', ({ create }) => {
  const runner = create();
  describe.each(PARENTS)('workspace $name', ({ directory }) => {
    let base: string;
    let repository: string;
    let markers: string;
    let worktree: TaskWorktree;

    beforeEach(async () => {
      base = mkdtempSync(join(directory(), 'loki-git-safety-'));
      repository = join(base, 'workspace');
      markers = join(base, 'markers');
      mkdirSync(repository);
      mkdirSync(markers);
      gitOutput(repository, 'init', '-q', '--initial-branch=main');
      writeFileSync(join(repository, 'work.txt'), 'original\n');
      gitOutput(repository, 'add', 'work.txt');
      gitOutput(repository, 'commit', '-q', '-m', 'first');
      worktree = await createTaskWorktree({
        repositoryRoot: repository,
        worktreesDirectory: join(repository, '.loki', 'worktrees'),
        taskId: 'task-1',
      });
    });
    afterEach(() => rmSync(base, { recursive: true, force: true }));

    function toolContext(): ToolContext {
      return {
        worktree: worktree.path,
        runner: runner as CommandRunner,
        emit: () => undefined,
        outputDirectory: join(base, 'outputs'),
        commandTimeoutMilliseconds: 60_000,
        allowNetwork: false,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base },
        redactor: createRedactor(),
        signal: new AbortController().signal,
        taskId: 'task-1',
        runId: null,
      };
    }

    /** The agent's command, run the way run_command runs it. */
    async function agentRuns(command: string): Promise<void> {
      await (runner as CommandRunner).run({
        command,
        cwd: worktree.path,
        writableDirectory: worktree.path,
        timeoutMilliseconds: 60_000,
        env: toolContext().env,
        allowNetwork: false,
        maxOutputBytes: 100_000,
      });
    }

    /** Everything Loki's git does with a task's worktree after the agent acted. */
    async function lokiUsesTheWorktree(): Promise<{ checkpoint: string | null; error: unknown }> {
      const context = toolContext();
      await executeTool(gitStatusTool, {}, context);
      await executeTool(gitDiffTool, {}, context);
      let checkpoint: string | null = null;
      let error: unknown = null;
      try {
        checkpoint = await commitCheckpoint(worktree, '[Loki] eng-backend-task-1: planted');
      } catch (caught) {
        error = caught;
        await rollbackWorktree(worktree, worktree.baseCommit);
      }
      await removeTaskWorktree(worktree);
      return { checkpoint, error };
    }

    it.skipIf(runner === null)("lets the agent's git tools read the worktree", async () => {
      await agentRuns('echo changed > work.txt');
      const context = toolContext();
      const status = await executeTool(gitStatusTool, {}, context);
      expect(status.isError).toBe(false);
      expect(status.output).toContain('work.txt');
      const diff = await executeTool(gitDiffTool, {}, context);
      expect(diff.isError).toBe(false);
      expect(diff.output).toContain('+changed');
      // Inside the sandbox the gitfile cannot be replaced.
      await agentRuns('rm -f .git; echo "gitdir: /nowhere" > .git');
      expect(readFileSync(join(worktree.path, '.git'), 'utf8')).toMatch(
        runner?.kind === 'bubblewrap' ? /worktrees/ : /nowhere/,
      );
      await removeTaskWorktree(worktree);
    });

    it.skipIf(runner === null)(
      'runs nothing the agent planted in a repository of its own, and fails the task as tampering',
      async () => {
        await agentRuns(plantOwnRepository(markers));
        const { checkpoint, error } = await lokiUsesTheWorktree();

        expect(readdirSync(markers)).toEqual([]);
        if (runner?.kind === 'bubblewrap') {
          // The sandbox keeps the gitfile read-only: the agent never got a repository of its own.
          expect(error).toBeNull();
          expect(checkpoint).not.toBeNull();
        } else {
          expect(error).toMatchObject({ code: 'GIT_WORKTREE_TAMPERED' });
          expect(String(error)).toMatch(/tampering/);
          expect(checkpoint).toBeNull();
          // Nothing of the attempt is on the task's branch.
          expect(gitOutput(repository, 'rev-parse', 'loki/task-1')).toBe(worktree.baseCommit);
        }
        // The worktree is gone, whatever the agent left in it; the repository has no other worktree.
        expect(existsSync(worktree.path)).toBe(false);
        expect(gitOutput(repository, 'worktree', 'list', '--porcelain')).not.toContain('task-1');
      },
    );

    it.skipIf(runner === null)(
      'ignores a gitfile pointed at another repository, and fails the task',
      async () => {
        const foreign = prepareForeignRepository(join(base, 'foreign'), markers);
        await agentRuns(`rm -f .git; printf 'gitdir: %s\\n' '${foreign}' > .git; echo changed > work.txt`);
        const { error } = await lokiUsesTheWorktree();

        expect(readdirSync(markers)).toEqual([]);
        if (runner?.kind === 'bubblewrap') {
          expect(error).toBeNull();
        } else {
          expect(error).toMatchObject({ code: 'GIT_WORKTREE_TAMPERED' });
          expect(gitOutput(repository, 'rev-parse', 'loki/task-1')).toBe(worktree.baseCommit);
        }
        // The foreign repository got nothing from Loki either: no commit, no index.
        const foreignRepository = join(base, 'foreign');
        expect(
          execFileSync('git', ['-C', foreignRepository, 'rev-list', '--all'], { encoding: 'utf8' }),
        ).toBe('');
        expect(existsSync(join(foreignRepository, '.git', 'index'))).toBe(false);
      },
    );

    it.skipIf(runner === null)(
      "never runs hooks or an fsmonitor set in the repository's own config",
      async () => {
        // Through the intact gitfile, into the repository's shared config (only the plain runner lets it write there).
        writeFileSync(join(base, 'hook'), markerProgram(markers, 'shared-hook'), { mode: 0o755 });
        await agentRuns(
          [
            `mkdir -p planted && cp '${join(base, 'hook')}' planted/post-commit && cp '${join(base, 'hook')}' planted/reference-transaction`,
            'git config core.hooksPath "$PWD/planted"',
            `git config core.fsmonitor '${join(base, 'hook')}'`,
            'echo changed > work.txt',
          ].join('; '),
        );
        const { checkpoint, error } = await lokiUsesTheWorktree();
        expect(error).toBeNull();
        expect(checkpoint).not.toBeNull();
        expect(readdirSync(markers)).toEqual([]);
        const config = readFileSync(join(repository, '.git', 'config'), 'utf8');
        // The bubblewrap sandbox keeps the repository's git directory read-only.
        if (runner?.kind === 'bubblewrap') expect(config).not.toContain('hooksPath');
      },
    );
  });
});
