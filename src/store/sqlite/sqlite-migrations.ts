/**
 * Numbered, append-only migrations. A migration is never edited once released: add a new one.
 * Each runs in its own transaction together with its row in schema_migrations. Each version is
 * applied when its own row is missing, so numbers need not be contiguous: migrations written on
 * branches side by side land in either order, as long as they do not depend on one another.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, tasks, dependencies, events',
    sql: `
      CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        status      TEXT NOT NULL,
        phase       TEXT NOT NULL,
        prd_path    TEXT,
        started_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        ended_at    INTEGER
      ) STRICT;

      -- seq gives a stable FIFO order among tasks of equal priority.
      CREATE TABLE tasks (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        id                TEXT NOT NULL UNIQUE,
        type              TEXT NOT NULL,
        title             TEXT NOT NULL,
        description       TEXT NOT NULL,
        priority          INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 10),
        dependencies      TEXT NOT NULL,
        payload           TEXT,
        idempotency_key   TEXT UNIQUE,
        run_id            TEXT,
        status            TEXT NOT NULL CHECK (status IN ('pending','in_progress','completed','failed','dead_letter','cancelled')),
        timeout_seconds   INTEGER NOT NULL,
        max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
        attempt_count     INTEGER NOT NULL DEFAULT 0,
        failure_count     INTEGER NOT NULL DEFAULT 0,
        backoff_seconds   REAL NOT NULL DEFAULT 0,
        available_at      INTEGER NOT NULL,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        claimed_by        TEXT,
        claimed_at        INTEGER,
        lease_expires_at  INTEGER,
        completed_at      INTEGER,
        last_error        TEXT,
        result            TEXT
      ) STRICT;

      -- The claim query walks this index in priority order and stops at the first ready task.
      CREATE INDEX tasks_claimable ON tasks (priority DESC, seq) WHERE status IN ('pending', 'failed');
      CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE status = 'in_progress';
      -- No plain index on status: every transition would rewrite one more page, and counting
      -- tasks by status scans 10,000 rows in a few milliseconds anyway.

      CREATE TABLE task_dependencies (
        task_id        TEXT NOT NULL,
        depends_on_id  TEXT NOT NULL,
        PRIMARY KEY (task_id, depends_on_id)
      ) STRICT, WITHOUT ROWID;

      -- A plain INTEGER PRIMARY KEY (no AUTOINCREMENT, which rewrites sqlite_sequence on every
      -- insert): events are never deleted, so sequence numbers still only grow.
      CREATE TABLE events (
        sequence    INTEGER PRIMARY KEY,
        type        TEXT NOT NULL,
        run_id      TEXT,
        task_id     TEXT,
        data        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      ) STRICT;
      -- Look-ups by task and by type: see migration 4.
    `,
  },
  {
    version: 2,
    name: 'circuit breakers',
    sql: `
      CREATE TABLE circuit_breakers (
        name                  TEXT PRIMARY KEY,
        state                 TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
        consecutive_failures  INTEGER NOT NULL,
        half_open_successes   INTEGER NOT NULL,
        opened_at             INTEGER,
        updated_at            INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'run settings',
    sql: `
      -- How the run was started (JSON, see RunSettingsData); NULL for runs recorded before this column.
      ALTER TABLE runs ADD COLUMN settings TEXT;
    `,
  },
  {
    version: 4,
    name: 'event look-ups by task and type',
    sql: `
      -- Subscribers of the event bus replay the log filtered by task or by type ("everything after
      -- sequence n about task t"); without these a replay scans the whole log. Each index costs a
      -- page write per committed transaction, which is why there are only two: a run's events are
      -- most of the log, so a filter on run_id gains little from an index and reads the log in
      -- sequence order instead. Sequence is the rowid, which an index holds anyway; it is spelt out
      -- to say that reads walk each index in sequence order.
      CREATE INDEX events_task ON events (task_id, sequence) WHERE task_id IS NOT NULL;
      CREATE INDEX events_type ON events (type, sequence);
    `,
  },
  {
    version: 5,
    name: 'run control requests',
    sql: `
      -- What any process asked the live run to do (RunControlState); the run polls it by primary key.
      ALTER TABLE runs ADD COLUMN control TEXT NOT NULL DEFAULT 'none' CHECK (control IN ('none', 'pause', 'stop'));
    `,
  },
  {
    version: 6,
    name: 'worker registry',
    sql: `
      -- One row per Loki process working on this store (worker-record.ts), kept after it stops so
      -- that its machine and times stay readable. types: a JSON array of agent types, NULL for any.
      CREATE TABLE workers (
        id                 TEXT PRIMARY KEY,
        machine            TEXT NOT NULL,
        pid                INTEGER NOT NULL,
        role               TEXT NOT NULL CHECK (role IN ('run', 'worker')),
        run_id             TEXT,
        parallel           INTEGER NOT NULL CHECK (parallel >= 1),
        types              TEXT,
        heartbeat_ms       INTEGER NOT NULL CHECK (heartbeat_ms >= 1),
        started_at         INTEGER NOT NULL,
        last_heartbeat_at  INTEGER NOT NULL,
        stopped_at         INTEGER
      ) STRICT;
    `,
  },
  {
    version: 7,
    name: 'a run process with no agents in the worker registry',
    sql: `
      -- loki run --parallel 0 coordinates a shared run and leaves every task to loki worker
      -- processes: it registers with 0 agents. SQLite cannot change a CHECK: the table is rebuilt.
      CREATE TABLE workers_rebuilt (
        id                 TEXT PRIMARY KEY,
        machine            TEXT NOT NULL,
        pid                INTEGER NOT NULL,
        role               TEXT NOT NULL CHECK (role IN ('run', 'worker')),
        run_id             TEXT,
        parallel           INTEGER NOT NULL CHECK (parallel >= 0),
        types              TEXT,
        heartbeat_ms       INTEGER NOT NULL CHECK (heartbeat_ms >= 1),
        started_at         INTEGER NOT NULL,
        last_heartbeat_at  INTEGER NOT NULL,
        stopped_at         INTEGER
      ) STRICT;
      INSERT INTO workers_rebuilt SELECT * FROM workers;
      DROP TABLE workers;
      ALTER TABLE workers_rebuilt RENAME TO workers;
    `,
  },
];
