import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type WorkerRecord } from '../store/index.ts';
import { runWorkerId, WorkerPresence } from './worker-presence.ts';

/** Polls until `condition` holds; the deadline is only a guard against a hang. */
async function until<T>(what: string, read: () => Promise<T>, condition: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await delay(20);
  }
}

async function only(store: SqliteStore): Promise<WorkerRecord> {
  const [worker, ...others] = await store.listWorkers();
  if (worker === undefined || others.length > 0) throw new Error('expected exactly one worker');
  return worker;
}

describe('WorkerPresence', () => {
  let directory: string;
  let path: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-presence-'));
    path = join(directory, 'loki.db');
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('registers the process with its machine, heartbeats, and records its stop', async () => {
    await using store = await SqliteStore.open(path);
    const presence = await WorkerPresence.start({
      store,
      id: runWorkerId('run-1'),
      role: 'run',
      runId: 'run-1',
      parallel: 3,
      intervalMilliseconds: 20,
    });
    const registered = await only(store);
    expect(registered).toMatchObject({
      id: `run:run-1:${hostname()}:${process.pid}`,
      machine: hostname(),
      pid: process.pid,
      role: 'run',
      parallel: 3,
      types: null,
      heartbeatMilliseconds: 20,
      stoppedAt: null,
    });
    await until(
      'a later heartbeat',
      () => only(store),
      (worker) => worker.lastHeartbeatAt > registered.lastHeartbeatAt,
    );
    await presence.stop();
    expect((await only(store)).stoppedAt).not.toBeNull();
    const events = await store.listEvents({ types: ['worker.joined', 'worker.left'] });
    expect(events.map((event) => event.type)).toEqual(['worker.joined', 'worker.left']);
  });

  it('goes on when a heartbeat cannot be written, says so once, and beats again once it can', async () => {
    await using store = await SqliteStore.open(path, { busyTimeoutMilliseconds: 5 });
    const told: string[] = [];
    await using presence = await WorkerPresence.start({
      store,
      id: 'worker:host-a:1',
      role: 'worker',
      runId: null,
      parallel: 1,
      types: ['eng-backend'],
      intervalMilliseconds: 20,
      onTrouble: (text) => told.push(text),
    });
    // Another process holds the write lock: every heartbeat meanwhile fails with STORE_BUSY.
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    await until(
      'a failed heartbeat to be told',
      async () => told.length,
      (count) => count === 1,
    );
    expect(told[0]).toContain('could not record a heartbeat of worker worker:host-a:1');
    expect(told[0]).toContain('the work goes on');
    const before = (await only(store)).lastHeartbeatAt;
    other.exec('COMMIT');
    other.close();
    await until(
      'heartbeats recorded again',
      () => only(store),
      (worker) => worker.lastHeartbeatAt > before,
    );
    await until(
      'the recovery to be told',
      async () => told.length,
      (count) => count === 2,
    );
    expect(told[1]).toBe('heartbeats of worker worker:host-a:1 are recorded again');
    expect(presence.id).toBe('worker:host-a:1');
  });

  it('tells nothing of failures its caller reports its own way, nor of the recovery from them', async () => {
    await using store = await SqliteStore.open(path, { busyTimeoutMilliseconds: 5 });
    const told: string[] = [];
    const judged: unknown[] = [];
    await using _presence = await WorkerPresence.start({
      store,
      id: 'worker:host-a:2',
      role: 'worker',
      runId: null,
      parallel: 1,
      intervalMilliseconds: 20,
      onTrouble: (text) => told.push(text),
      isReportedElsewhere: (error) => {
        judged.push(error);
        return true;
      },
    });
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    await until(
      'a failed heartbeat to be judged',
      async () => judged.length,
      (count) => count >= 1,
    );
    expect(judged[0]).toMatchObject({ code: 'STORE_BUSY' });
    const before = (await only(store)).lastHeartbeatAt;
    other.exec('COMMIT');
    other.close();
    await until(
      'heartbeats recorded again',
      () => only(store),
      (worker) => worker.lastHeartbeatAt > before,
    );
    expect(told).toEqual([]);
  });
});
