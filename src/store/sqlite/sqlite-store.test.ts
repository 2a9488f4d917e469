import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { describeStoreConformance } from '../store-conformance.ts';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'loki-sqlite-store-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let databaseNumber = 0;
describeStoreConformance(
  'sqlite',
  (clock) => {
    databaseNumber += 1;
    return SqliteStore.open(join(directory, `conformance-${databaseNumber}.db`), { clock });
  },
  (store, clock) => SqliteStore.open(store.location, { clock }),
);

describe('SqliteStore', () => {
  it('uses WAL and keeps data across reopen', async () => {
    const path = join(directory, 'reopen.db');
    const clock = new ManualClock();
    {
      await using store = await SqliteStore.open(path, { clock });
      await store.insertTasks([
        {
          id: 'a',
          type: 't',
          title: 'a',
          description: '',
          priority: 5,
          dependencies: [],
          payload: null,
          idempotencyKey: null,
          runId: null,
          timeoutSeconds: 10,
          maxAttempts: 1,
        },
      ]);
    }
    await using reopened = await SqliteStore.open(path, { clock });
    expect((await reopened.getTask('a'))?.title).toBe('a');
    const { DatabaseSync } = await import('node:sqlite');
    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    // Every migration applied: the newest is whichever was added last.
    expect(raw.prepare('SELECT max(version) AS version FROM schema_migrations').get()).toEqual({
      version: Math.max(...SQLITE_MIGRATIONS.map((migration) => migration.version)),
    });
    raw.close();
  });

  it('reads one task or one type of event through an index, not by scanning the log', async () => {
    const path = join(directory, 'event-indexes.db');
    await (await SqliteStore.open(path)).close();
    const { DatabaseSync } = await import('node:sqlite');
    const raw = new DatabaseSync(path);
    const plan = (sql: string) =>
      raw
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((row) => String(row.detail))
        .join('; ');
    expect(plan("SELECT * FROM events WHERE sequence > 0 AND task_id = 'a' ORDER BY sequence")).toContain(
      'USING INDEX events_task (task_id=? AND sequence>?)',
    );
    expect(
      plan("SELECT * FROM events WHERE sequence > 0 AND type IN ('task.claimed') ORDER BY sequence"),
    ).toContain('USING INDEX events_type (type=? AND sequence>?)');
    raw.close();
  });

  it('brings the runs of a store from before run control to control none (migration 5)', async () => {
    const path = join(directory, 'before-control.db');
    const clock = new ManualClock();
    {
      await using store = await SqliteStore.open(path, { clock });
      await store.createRun({ id: 'run-1', prdPath: null, phase: 'development' });
    }
    // As a workspace written before migration 5 left it.
    const { DatabaseSync } = await import('node:sqlite');
    const raw = new DatabaseSync(path);
    raw.exec('ALTER TABLE runs DROP COLUMN control; DELETE FROM schema_migrations WHERE version = 5');
    raw.close();
    await using reopened = await SqliteStore.open(path, { clock });
    expect((await reopened.getRun('run-1'))?.control).toBe('none');
    const paused = await reopened.requestRunControl('run-1', { action: 'pause', requestedBy: 'cli' });
    expect(paused.run.control).toBe('pause');
  });

  it('keeps the registered workers when it lets a run process register with 0 agents (migration 7)', async () => {
    const path = join(directory, 'before-zero-agents.db');
    const clock = new ManualClock();
    const heartbeat = {
      id: 'worker:host-a:7',
      machine: 'host-a',
      pid: 7,
      role: 'worker' as const,
      runId: null,
      parallel: 2,
      types: null,
      heartbeatMilliseconds: 10_000,
    };
    {
      await using store = await SqliteStore.open(path, { clock });
      await store.recordWorkerHeartbeat(heartbeat);
    }
    // As a workspace written before migration 7 left it: a workers table that refuses 0.
    const { DatabaseSync } = await import('node:sqlite');
    const raw = new DatabaseSync(path);
    raw.exec(`
      CREATE TABLE workers_old (id TEXT PRIMARY KEY, machine TEXT NOT NULL, pid INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('run', 'worker')), run_id TEXT,
        parallel INTEGER NOT NULL CHECK (parallel >= 1), types TEXT,
        heartbeat_ms INTEGER NOT NULL CHECK (heartbeat_ms >= 1), started_at INTEGER NOT NULL,
        last_heartbeat_at INTEGER NOT NULL, stopped_at INTEGER) STRICT;
      INSERT INTO workers_old SELECT * FROM workers;
      DROP TABLE workers;
      ALTER TABLE workers_old RENAME TO workers;
      DELETE FROM schema_migrations WHERE version = 7;`);
    raw.close();
    await using reopened = await SqliteStore.open(path, { clock });
    expect((await reopened.listWorkers()).map((worker) => [worker.id, worker.parallel])).toEqual([
      ['worker:host-a:7', 2],
    ]);
    const coordinator = { ...heartbeat, id: 'run:run-1:host-a:8', pid: 8, role: 'run' as const, parallel: 0 };
    expect((await reopened.recordWorkerHeartbeat(coordinator)).parallel).toBe(0);
  });
});
