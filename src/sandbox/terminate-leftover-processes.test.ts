import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killProcessesInside } from '../../test/support/processes-inside.ts';
import { strandSandbox } from '../../test/support/stranded-sandbox.ts';
import { findExecutable } from './find-executable.ts';
import { readProcessIdentity } from './process-tree.ts';
import { terminateLeftoverProcesses } from './terminate-leftover-processes.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const scriptPath = findExecutable('script', process.env.PATH);
const SKIP_NOTE =
  bubblewrapPath === undefined ? ' (SKIPPED: bwrap is not on PATH — apt-get install bubblewrap)' : '';
const KILL_DEADLINE_MILLISECONDS = 10_000;

/**
 * Starts `command` through a shell that exits at once, so that it is an orphan (re-parented away
 * from this process), in a session of its own, as a killed run's processes are. Returns its pid.
 */
function startOrphan(cwd: string, command: readonly string[] = ['sleep', '1000']): number {
  const output = execFileSync(
    '/bin/sh',
    ['-c', 'setsid "$@" </dev/null >/dev/null 2>&1 & echo "$!"', 'sh', ...command],
    {
      cwd,
      encoding: 'utf8',
    },
  );
  return Number(output.trim());
}

const isAlive = async (pid: number) => (await readProcessIdentity(pid)) !== null;

describe('terminateLeftoverProcesses', () => {
  let scratch: string;
  let worktrees: string;
  let elsewhere: string;
  const started: number[] = [];
  const children: ChildProcess[] = [];
  beforeEach(() => {
    scratch = realpathSync(mkdtempSync(join(tmpdir(), 'loki-leftovers-')));
    worktrees = join(scratch, 'worktrees');
    elsewhere = join(scratch, 'elsewhere');
    mkdirSync(join(worktrees, 'task-1'), { recursive: true });
    mkdirSync(elsewhere);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        // ESRCH: ended by the code under test, as it should be.
        if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
      }
    }
    killProcessesInside(scratch);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ends orphans working in the directory or naming it, also once the directory is gone, and nothing else', async () => {
    const inWorktree = startOrphan(join(worktrees, 'task-1'));
    writeFileSync(join(worktrees, 'task-1', 'build.log'), '');
    const namingIt = startOrphan(elsewhere, ['tail', '-f', join(worktrees, 'task-1', 'build.log')]);
    mkdirSync(join(worktrees, 'task-2'));
    const inDeletedWorktree = startOrphan(join(worktrees, 'task-2'));
    rmSync(join(worktrees, 'task-2'), { recursive: true });
    const unrelated = startOrphan(elsewhere);
    started.push(inWorktree, namingIt, inDeletedWorktree, unrelated);
    // This process's own child in a worktree is a live worker's, not a leftover.
    const ownChild = spawn('sleep', ['1000'], { cwd: join(worktrees, 'task-1'), stdio: 'ignore' });
    children.push(ownChild);

    const ended = await terminateLeftoverProcesses({
      directories: [worktrees],
      killDeadlineMilliseconds: KILL_DEADLINE_MILLISECONDS,
    });

    expect(ended.map((identity) => identity.pid).sort()).toEqual(
      [inWorktree, namingIt, inDeletedWorktree].sort(),
    );
    for (const pid of [inWorktree, namingIt, inDeletedWorktree]) expect(await isAlive(pid)).toBe(false);
    expect(await isAlive(unrelated)).toBe(true);
    expect(await isAlive(ownChild.pid ?? 0)).toBe(true);
  });

  it.skipIf(scriptPath === undefined)(
    'leaves a process with a controlling terminal alone: a person working in a worktree',
    async () => {
      // `script` (an orphan here, like a terminal emulator) gives the shell it runs a terminal.
      const marker = join(elsewhere, 'pid');
      const output = execFileSync(
        '/bin/sh',
        [
          '-c',
          'script --quiet --command "$1" /dev/null </dev/null >/dev/null 2>&1 & echo "$!"',
          'sh',
          'cd "$TARGET" && echo $$ > "$MARKER" && exec sleep 1000',
        ],
        {
          cwd: elsewhere,
          encoding: 'utf8',
          env: { ...process.env, TARGET: join(worktrees, 'task-1'), MARKER: marker },
        },
      );
      started.push(Number(output.trim()));
      const pid = await waitForPidFile(marker);
      started.push(pid);
      expect((await readProcessIdentity(pid))?.hasControllingTerminal).toBe(true);

      const ended = await terminateLeftoverProcesses({
        directories: [worktrees],
        killDeadlineMilliseconds: KILL_DEADLINE_MILLISECONDS,
      });

      expect(ended).toEqual([]);
      expect(await isAlive(pid)).toBe(true);
    },
  );

  describe.skipIf(bubblewrapPath === undefined)(`a sandbox stranded by a killed Loki${SKIP_NOTE}`, () => {
    it('stays stuck in its setup until the next run ends it', async () => {
      const worktree = join(worktrees, 'task-1');
      const init = await strandSandbox({ bubblewrapPath: bubblewrapPath ?? 'bwrap', worktree, scratch });
      started.push(init.pid);
      // Bubblewrap is gone; what it cloned lives on, its command never run.
      expect(await isAlive(init.pid)).toBe(true);

      const ended = await terminateLeftoverProcesses({
        directories: [worktrees],
        killDeadlineMilliseconds: KILL_DEADLINE_MILLISECONDS,
      });

      expect(ended.map((identity) => identity.pid)).toEqual([init.pid]);
      expect(await isAlive(init.pid)).toBe(false);
    });
  });
});

async function waitForPidFile(path: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
    if (/^\d+$/.test(text)) return Number(text);
    if (Date.now() > deadline) throw new Error(`timed out waiting for a pid in ${path}`);
    await delay(20);
  }
}
