import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import { SqliteStore } from '../store/index.ts';
import { workspacePaths } from './workspace-paths.ts';
import { writeProjections } from './write-projections.ts';

describe('writeProjections lock', () => {
  let root: string;
  let store: SqliteStore;
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-projections-'));
    mkdirSync(join(root, '.loki', 'state'), { recursive: true });
    store = await SqliteStore.open(join(root, '.loki', 'loki.db'), { clock: new ManualClock() });
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('takes over at once a lock left by a process that no longer exists (a killed run)', async () => {
    const paths = workspacePaths(root);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(paths.projectionLock, dead.stdout);
    // The lock is fresh (not stale by age): a writer that waited for it would end in PROJECTION_LOCK_TIMEOUT.
    await writeProjections(store, paths);
    expect(existsSync(paths.statusFile)).toBe(true);
    expect(existsSync(paths.projectionLock)).toBe(false);
  });

  it('takes over an empty lock a writer killed between creating it and writing its pid left', async () => {
    const paths = workspacePaths(root);
    writeFileSync(paths.projectionLock, '');
    // A live writer fills its lock within microseconds; this one has been empty for seconds.
    const fiveSecondsAgo = new Date(Date.now() - 5_000);
    utimesSync(paths.projectionLock, fiveSecondsAgo, fiveSecondsAgo);
    // Waiting for it would end in PROJECTION_LOCK_TIMEOUT: it is not stale by age for 30 s.
    await writeProjections(store, paths);
    expect(existsSync(paths.statusFile)).toBe(true);
    expect(existsSync(paths.projectionLock)).toBe(false);
  });

  it('waits for a lock whose holder is alive, then says which file to delete', async () => {
    const paths = workspacePaths(root);
    writeFileSync(paths.projectionLock, String(process.pid));
    const error = await writeProjections(store, paths).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isLokiError(error) && error.code).toBe('PROJECTION_LOCK_TIMEOUT');
    expect(String(error)).toContain(paths.projectionLock);
  }, 20_000);
});

describe('writeProjections STATUS.txt', () => {
  let root: string;
  let store: SqliteStore;
  const clock = new ManualClock(1_000_000);
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-projections-'));
    mkdirSync(join(root, '.loki', 'state'), { recursive: true });
    store = await SqliteStore.open(join(root, '.loki', 'loki.db'), { clock });
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists the processes working on the store by machine, as loki status does', async () => {
    const paths = workspacePaths(root);
    const beat = (id: string, machine: string, role: 'run' | 'worker') =>
      store.recordWorkerHeartbeat({
        id,
        machine,
        pid: 4242,
        role,
        runId: 'run-1',
        parallel: 2,
        types: null,
        heartbeatMilliseconds: 10_000,
      });
    await beat('run:run-1:4242', 'build-1', 'run');
    await beat('worker:build-2:7', 'build-2', 'worker');
    await writeProjections(store, paths, { workersSeenAt: { now: clock.now() } });
    const status = readFileSync(paths.statusFile, 'utf8');
    expect(status).toMatch(/^Machines: +build-1 +run:run-1:4242 \(/m);
    expect(status).toMatch(/^ +build-2 +worker:build-2:7 \(/m);
  });
});
