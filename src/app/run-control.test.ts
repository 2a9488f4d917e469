import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import { acquireRunLock } from '../orchestrator/index.ts';
import { initWorkspace, openWorkspace, type Workspace } from '../workspace/index.ts';
import { continueRun, pauseRun, stopRun } from './run-control.ts';

async function errorCodeOf(promise: Promise<unknown>): Promise<string | null> {
  return promise.then(
    () => null,
    (error: unknown) => (isLokiError(error) ? error.code : String(error)),
  );
}

describe('run control services', () => {
  let root: string;
  let workspace: Workspace;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-run-control-'));
    await initWorkspace({ root, clock: systemClock });
    workspace = await openWorkspace(root, { clock: systemClock });
  });
  afterEach(async () => {
    await workspace.close();
    rmSync(root, { recursive: true, force: true });
  });

  const options = () => ({ workspace, requestedBy: 'cli' as const });
  const stop = (timeoutMilliseconds = 5000) =>
    stopRun({ ...options(), clock: systemClock, timeoutMilliseconds, pollMilliseconds: 10 });

  it('says why a run that is not live cannot be steered: none yet, its process gone, or ended', async () => {
    expect(await errorCodeOf(pauseRun(options()))).toBe('RUN_NOT_FOUND');
    expect(await stop()).toEqual({ stopped: false, runId: null, status: null, reason: 'no_run' });

    // Recorded as running, but no process holds the run lock.
    await workspace.store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    expect(await errorCodeOf(pauseRun(options()))).toBe('RUN_PROCESS_GONE');
    expect(await errorCodeOf(continueRun(options()))).toBe('RUN_PROCESS_GONE');
    expect(await stop()).toEqual({
      stopped: false,
      runId: 'run-1',
      status: 'running',
      reason: 'process_gone',
    });

    await workspace.store.updateRun('run-1', { status: 'stopped' });
    expect(await errorCodeOf(pauseRun(options()))).toBe('RUN_NOT_RUNNING');
    expect(await stop()).toEqual({ stopped: false, runId: 'run-1', status: 'stopped', reason: 'ended' });
    expect((await workspace.store.getRun('run-1'))?.control).toBe('none');
  });

  it('pauses and continues the live run, saying when nothing changed', async () => {
    await workspace.store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    using _lock = acquireRunLock(workspace.paths.runLockFile, { runId: 'run-1' });
    expect(await pauseRun(options())).toEqual({
      runId: 'run-1',
      action: 'pause',
      isChanged: true,
      tasksInProgress: 0,
    });
    expect((await pauseRun(options())).isChanged).toBe(false);
    expect((await workspace.store.getRun('run-1'))?.control).toBe('pause');
    expect((await continueRun(options())).isChanged).toBe(true);
    expect((await continueRun(options())).isChanged).toBe(false);
  });

  it('records the stop and waits until the run lets go of the workspace', async () => {
    await workspace.store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    const lock = acquireRunLock(workspace.paths.runLockFile, { runId: 'run-1' });
    const requests: unknown[] = [];
    // The run's side, as RunControlWatch and the pipeline do it: it sees the request, ends, lets go.
    const seen = setInterval(() => {
      void workspace.store.getRun('run-1').then(async (run) => {
        if (run?.control !== 'stop' || run.status !== 'running') return;
        await workspace.store.updateRun('run-1', { status: 'stopped' });
        lock.release();
      });
    }, 20);
    try {
      const result = await stopRun({
        ...options(),
        clock: systemClock,
        timeoutMilliseconds: 10_000,
        pollMilliseconds: 10,
        onRequested: (request) => requests.push(request),
      });
      expect(result).toEqual({ stopped: true, runId: 'run-1', pid: process.pid, status: 'stopped' });
      expect(requests).toEqual([{ runId: 'run-1', pid: process.pid, isChanged: true }]);
    } finally {
      clearInterval(seen);
      lock.release();
    }
    const events = await workspace.store.listEvents();
    expect(events.find((event) => event.type === 'run.stop_requested')?.data).toEqual({ requestedBy: 'cli' });
  });

  it('asks a run that is starting to stop as soon as it is recorded; pause waits for it to run', async () => {
    // A new run's process holds the lock before its row exists.
    const lock = acquireRunLock(workspace.paths.runLockFile, { runId: 'run-1' });
    expect(await errorCodeOf(pauseRun(options()))).toBe('RUN_NOT_RUNNING');
    const stopping = stop(10_000);
    await workspace.store.createRun({ id: 'run-1', prdPath: null, phase: 'bootstrap' });
    const seen = setInterval(() => {
      void workspace.store.getRun('run-1').then(async (run) => {
        if (run?.control !== 'stop' || run.status !== 'running') return;
        await workspace.store.updateRun('run-1', { status: 'stopped' });
        lock.release();
      });
    }, 20);
    try {
      expect(await stopping).toMatchObject({ stopped: true, runId: 'run-1', status: 'stopped' });
    } finally {
      clearInterval(seen);
      lock.release();
    }
  });

  it('gives up after the timeout without signalling the run, saying how to force it', async () => {
    await workspace.store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    using _lock = acquireRunLock(workspace.paths.runLockFile, { runId: 'run-1' });
    const error = await stop(50).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isLokiError(error) && error.code).toBe('RUN_STOP_TIMEOUT');
    expect(String(error)).toContain(`kill -INT ${process.pid}`);
    expect((await workspace.store.getRun('run-1'))?.control).toBe('stop');
  });
});
