/**
 * A live run whose `.loki/` fills up or turns read-only. The run must stop with one line that says
 * what happened and what to do, count nothing against its tasks, and resume once the disk is fixed.
 *
 * Real faults, not injected ones: `.loki/` is a small tmpfs (ENOSPC), or is remounted read-only
 * under the live run (a bind mount, so the run's open files stay writable exactly as after a
 * `chmod -R a-w .loki`, and every new file fails). Mounting needs root (or CAP_SYS_ADMIN); where
 * it is not permitted these tests are skipped, and the store's classification of the same SQLite
 * faults is still covered by src/store/sqlite/sqlite-store-faults.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun, type RunningLoki, startLoki } from './support/run-harness.ts';

/** Whether this process may mount a tmpfs (and so a read-only bind mount too). */
function canMount(): boolean {
  if (process.platform !== 'linux') return false;
  const probe = mkdtempSync(join(tmpdir(), 'loki-mount-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], {
      stdio: 'ignore',
    });
    if (mounted.status !== 0) return false;
    execFileSync('umount', [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const MOUNT_PERMITTED = canMount();
if (!MOUNT_PERMITTED) {
  console.warn(
    'store-disk-faults: skipped, mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)',
  );
}

/** A run that outlives a disk fault by far: how long to wait before calling it hung. */
const HANG_DEADLINE_MILLISECONDS = 120_000;

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

const TASKS = [
  { id: 'alpha', files: files('alpha') },
  { id: 'beta', files: files('beta') },
  { id: 'gamma', files: files('gamma'), dependencies: ['alpha'] },
  { id: 'delta', files: files('delta'), dependencies: ['beta'] },
  { id: 'epsilon', files: files('epsilon'), dependencies: ['gamma', 'delta'] },
  { id: 'zeta', files: files('zeta'), dependencies: ['epsilon'] },
];

interface QueuedTask {
  id: string;
  status: string;
  retries: number;
}

/** Ends the run's wait either with its exit or, past the deadline, as a hang (killing it). */
async function exitOrHang(run: RunningLoki): Promise<Awaited<RunningLoki['done']>> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error('loki did not stop after the disk fault: it hangs'));
    }, HANG_DEADLINE_MILLISECONDS);
  });
  try {
    return await Promise.race([run.done, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes zeros into `path` until the file system is full. */
function fillDisk(path: string): void {
  const descriptor = openSync(path, 'w');
  try {
    // Big chunks first, then page-sized ones so that not even one page is left.
    for (const size of [1024 * 1024, 4096]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(descriptor, chunk);
        } catch (error) {
          if (error instanceof Error && 'code' in error && error.code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(descriptor);
  }
}

/** No attempt was burned: nothing dead-lettered, every task merged with no failure counted. */
async function expectEveryTaskMergedWithoutFailures(workspace: TempWorkspace): Promise<void> {
  const { tasks } = parseJsonOutput<{ tasks: QueuedTask[] }>(
    await loki(workspace, ['queue', 'list', '--json']),
  );
  expect(tasks.map((task) => [task.id, task.status, task.retries])).toEqual(
    TASKS.map((task) => [task.id, 'completed', 0]),
  );
}

/**
 * Mounts over `path` (with `mount` arguments), unmounted on dispose. Declared after the workspace,
 * it is disposed first, so that the workspace can then be removed.
 */
function mountOver(path: string, ...mountArguments: string[][]): Disposable & { unmount(): void } {
  let isMounted = false;
  const unmount = () => {
    if (!isMounted) return;
    isMounted = false;
    // Lazy: a process of a failed test may still hold files in it; the mount goes at once anyway.
    execFileSync('umount', ['-l', path]);
  };
  try {
    for (const argumentsOfOne of mountArguments) {
      execFileSync('mount', [...argumentsOfOne, path]);
      isMounted = true;
    }
  } catch (error) {
    unmount();
    throw error;
  }
  return { unmount, [Symbol.dispose]: unmount };
}

/** A read-only bind mount of `path` over itself: files open for writing stay writable, new ones fail. */
const readOnlyBind = (path: string) => mountOver(path, ['--bind', path], ['-o', 'remount,ro,bind']);

describe.skipIf(!MOUNT_PERMITTED)('a live run whose disk fails (real mounts)', () => {
  it('stops with one line when .loki/ fills up (no hang), and resumes once space is freed', async () => {
    using workspace = new TempWorkspace();
    const loki_ = join(workspace.root, '.loki');
    mkdirSync(loki_);
    using _tmpfs = mountOver(loki_, ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs']);
    const args = prepareRun(workspace, { tasks: TASKS, latencyMilliseconds: 200 }, 2);

    const run = startLoki(workspace, ['run', 'prd.md', ...args]);
    await run.waitForOutput(/merged as/);
    const filler = join(loki_, 'filler');
    fillDisk(filler);
    const stopped = await exitOrHang(run);

    expect(stopped.exitCode, stopped.stdout + stopped.stderr).toBe(1);
    expect(stopped.stderr).toMatch(/^loki: [^\n]*no space left[^\n]*\n$/i);
    expect(stopped.stderr).toContain('loki resume');
    expect(stopped.stderr).not.toMatch(/\n\s+at /);

    rmSync(filler);
    const resumed = await loki(workspace, ['resume', ...args]);
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    await expectEveryTaskMergedWithoutFailures(workspace);
  }, 300_000);

  it('stops with one line when .loki/ turns read-only, burning no attempt, and resumes once it is writable', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: TASKS, latencyMilliseconds: 200 }, 2);
    const loki_ = join(workspace.root, '.loki');

    const run = startLoki(workspace, ['run', 'prd.md', ...args]);
    await run.waitForOutput(/merged as/);
    using readOnly = readOnlyBind(loki_);
    const stopped = await exitOrHang(run);

    expect(stopped.exitCode, stopped.stdout + stopped.stderr).toBe(1);
    expect(stopped.stderr).toMatch(/^loki: [^\n]*read-only[^\n]*\n$/i);
    expect(stopped.stderr).toContain('loki resume');
    expect(stopped.stderr).not.toMatch(/\n\s+at /);

    readOnly.unmount();
    const resumed = await loki(workspace, ['resume', ...args]);
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    await expectEveryTaskMergedWithoutFailures(workspace);
  }, 300_000);

  it('refuses to start on a read-only .loki/ with one line (real process)', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: TASKS.slice(0, 1) }, 1);
    expect((await loki(workspace, ['init', 'prd.md'])).exitCode).toBe(0);
    using _readOnly = readOnlyBind(join(workspace.root, '.loki'));

    const result = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '..', 'bin', 'loki.js'), 'run', 'prd.md', ...args],
      {
        cwd: workspace.root,
        env: workspace.env,
        encoding: 'utf8',
      },
    );
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^loki: [^\n]*read-only[^\n]*\n$/i);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
