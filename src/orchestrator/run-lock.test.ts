import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLokiError, type LokiError } from '../errors/index.ts';
import { acquireRunLock, readRunLock, type RunLockOwner } from './run-lock.ts';

let directory: string;
let lockPath: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'loki-run-lock-'));
  lockPath = join(directory, 'run.lock');
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function writeLock(owner: Partial<RunLockOwner>): RunLockOwner {
  const full: RunLockOwner = {
    pid: process.pid,
    runId: 'run-other',
    hostname: hostname(),
    startedAt: '2026-01-01T00:00:00.000Z',
    processStartTicks: null,
    ...owner,
  };
  writeFileSync(lockPath, JSON.stringify(full));
  return full;
}

function catchError(action: () => unknown): LokiError {
  try {
    action();
  } catch (error) {
    if (isLokiError(error)) return error;
    throw error;
  }
  throw new Error('expected a LokiError');
}

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  if (child.pid === undefined) throw new Error('the child did not start');
  return child.pid;
}

describe('acquireRunLock', () => {
  it('writes the owner to the lock file and removes it on release', () => {
    const lock = acquireRunLock(lockPath, { runId: 'run-1' });
    const written = JSON.parse(readFileSync(lockPath, 'utf8')) as RunLockOwner;
    expect(written).toMatchObject({ pid: process.pid, runId: 'run-1', hostname: hostname() });
    expect(written.processStartTicks).toBeTypeOf('number');
    expect(readRunLock(lockPath)).toEqual({ owner: written, isAlive: true });
    expect(readdirSync(directory)).toEqual(['run.lock']);

    lock.release();
    expect(existsSync(lockPath)).toBe(false);
    expect(readRunLock(lockPath)).toBeNull();
  });

  it('releases the lock when disposed', () => {
    {
      using _lock = acquireRunLock(lockPath, { runId: 'run-1' });
      expect(existsSync(lockPath)).toBe(true);
    }
    expect(existsSync(lockPath)).toBe(false);
  });

  it('refuses a second run while the first owner is alive, naming it and saying what to do', () => {
    using _first = acquireRunLock(lockPath, { runId: 'run-1' });
    const error = catchError(() => acquireRunLock(lockPath, { runId: 'run-2' }));
    expect(error.code).toBe('RUN_ALREADY_ACTIVE');
    expect(error.category).toBe('user');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain('run-1');
    expect(error.message).toContain('loki stop');
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ runId: 'run-1' });
    expect(readdirSync(directory)).toEqual(['run.lock']);
  });

  it('takes over a lock left by a process that has exited', async () => {
    const pid = await deadPid();
    writeLock({ pid, runId: 'run-crashed', processStartTicks: 12345 });
    expect(readRunLock(lockPath)?.isAlive).toBe(false);

    using _lock = acquireRunLock(lockPath, { runId: 'run-2' });
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, runId: 'run-2' });
    expect(readdirSync(directory)).toEqual(['run.lock']);
  });

  it('treats a live pid with a different process start time as a reused pid, so the lock is stale', () => {
    const ownStartTicks = readRunLockOwnStartTicks();
    writeLock({ runId: 'run-old', processStartTicks: ownStartTicks - 1 });
    expect(readRunLock(lockPath)?.isAlive).toBe(false);

    using _lock = acquireRunLock(lockPath, { runId: 'run-2' });
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ runId: 'run-2' });
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{"pid": 12'],
    ['JSON of the wrong shape', '{"pid": "twelve"}'],
  ])('treats a %s lock file as stale', (_name, content) => {
    writeFileSync(lockPath, content);
    expect(readRunLock(lockPath)).toBeNull();

    using _lock = acquireRunLock(lockPath, { runId: 'run-2' });
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ runId: 'run-2' });
  });

  it('treats a lock from another host as alive, since its pid cannot be checked here', async () => {
    writeLock({ pid: await deadPid(), runId: 'run-elsewhere', hostname: 'some-other-host' });
    const error = catchError(() => acquireRunLock(lockPath, { runId: 'run-2' }));
    expect(error.code).toBe('RUN_ALREADY_ACTIVE');
    expect(error.message).toContain('some-other-host');
  });

  it('does not delete a lock that someone else took after ours was removed', () => {
    const lock = acquireRunLock(lockPath, { runId: 'run-1' });
    rmSync(lockPath);
    const other = writeLock({ runId: 'run-other' });

    lock.release();
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toEqual(other);
  });
});

function readRunLockOwnStartTicks(): number {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}
