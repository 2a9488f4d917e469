import type { Migration } from '../sqlite/sqlite-migrations.ts';

/**
 * The PostgreSQL schema as numbered, append-only migrations, kept in `loki_schema_migrations`.
 * Never edit one once released: add the next. Each is applied in its own transaction under an
 * advisory lock (see postgres-store.ts), so processes that open the store at once apply it once.
 *
 * Times are epoch milliseconds (bigint) taken from the store's clock, as in SQLite, so that tests
 * drive leases and backoff with a manual clock. JSON stays text: what is read back is exactly what
 * was written.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, tasks, dependencies, events, breakers',
    sql: `
      CREATE TABLE runs (
        seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id          text PRIMARY KEY,
        status      text NOT NULL,
        phase       text NOT NULL,
        prd_path    text,
        settings    text,
        control     text NOT NULL DEFAULT 'none' CHECK (control IN ('none', 'pause', 'stop')),
        started_at  bigint NOT NULL,
        updated_at  bigint NOT NULL,
        ended_at    bigint
      );

      -- seq gives a stable FIFO order among tasks of equal priority (not a commit order: it needs none).
      CREATE TABLE tasks (
        seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id                text NOT NULL UNIQUE,
        type              text NOT NULL,
        title             text NOT NULL,
        description       text NOT NULL,
        priority          integer NOT NULL CHECK (priority BETWEEN 1 AND 10),
        dependencies      text NOT NULL,
        payload           text,
        idempotency_key   text UNIQUE,
        run_id            text,
        status            text NOT NULL CHECK (status IN ('pending','in_progress','completed','failed','dead_letter','cancelled')),
        timeout_seconds   integer NOT NULL,
        max_attempts      integer NOT NULL CHECK (max_attempts >= 1),
        attempt_count     integer NOT NULL DEFAULT 0,
        failure_count     integer NOT NULL DEFAULT 0,
        backoff_seconds   double precision NOT NULL DEFAULT 0,
        available_at      bigint NOT NULL,
        created_at        bigint NOT NULL,
        updated_at        bigint NOT NULL,
        claimed_by        text,
        claimed_at        bigint,
        lease_expires_at  bigint,
        completed_at      bigint,
        last_error        text,
        result            text
      );
      -- The claim walks this index in claim order and stops at the first ready, unlocked task.
      CREATE INDEX tasks_claimable ON tasks (priority DESC, seq) WHERE status IN ('pending', 'failed');
      CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE status = 'in_progress';

      CREATE TABLE task_dependencies (
        task_id        text NOT NULL,
        depends_on_id  text NOT NULL,
        PRIMARY KEY (task_id, depends_on_id)
      );
      CREATE INDEX task_dependencies_reverse ON task_dependencies (depends_on_id);

      -- Sequences are NOT a serial: they come from event_counter (below), in commit order.
      CREATE TABLE events (
        sequence    bigint PRIMARY KEY,
        type        text NOT NULL,
        run_id      text,
        task_id     text,
        data        text NOT NULL,
        created_at  bigint NOT NULL
      );
      CREATE INDEX events_task ON events (task_id, sequence) WHERE task_id IS NOT NULL;
      CREATE INDEX events_type ON events (type, sequence);

      -- One row: the last event sequence handed out. A transaction that appends events increments it
      -- as its last statement before COMMIT and holds the row lock until it commits, so transactions
      -- with events commit one after another in sequence order, and a rolled-back one gives its
      -- numbers back. Hence a reader that sees sequence n has seen every event before n.
      CREATE TABLE event_counter (
        only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        last_sequence  bigint NOT NULL
      );
      INSERT INTO event_counter (only_row, last_sequence) VALUES (true, 0);

      CREATE TABLE circuit_breakers (
        name                  text PRIMARY KEY,
        state                 text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
        consecutive_failures  integer NOT NULL,
        half_open_successes   integer NOT NULL,
        opened_at             bigint,
        updated_at            bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'worker registry',
    sql: `
      -- One row per Loki process working on this store (worker-record.ts), kept after it stops so
      -- that its machine and times stay readable. types: a JSON array of agent types, NULL for any.
      CREATE TABLE workers (
        id                 text PRIMARY KEY,
        machine            text NOT NULL,
        pid                integer NOT NULL,
        role               text NOT NULL CHECK (role IN ('run', 'worker')),
        run_id             text,
        parallel           integer NOT NULL CHECK (parallel >= 1),
        types              text,
        heartbeat_ms       bigint NOT NULL CHECK (heartbeat_ms >= 1),
        started_at         bigint NOT NULL,
        last_heartbeat_at  bigint NOT NULL,
        stopped_at         bigint
      );
    `,
  },
  {
    version: 3,
    name: 'shared budget ledger',
    sql: `
      -- One row per run: the cap every worker of the run enforces and the counters that reserve,
      -- settle and release change under this row's lock (src/budget/README.md). A reservation is
      -- granted by one conditional UPDATE of this row, so no two workers can both take the last dollars.
      CREATE TABLE budget_ledgers (
        run_id             text PRIMARY KEY,
        cap_nano_usd       bigint CHECK (cap_nano_usd > 0),
        spent_nano_usd     bigint NOT NULL DEFAULT 0,
        reserved_nano_usd  bigint NOT NULL DEFAULT 0 CHECK (reserved_nano_usd >= 0),
        -- Counts the changes of this row (each under its lock): the order of grants and closes.
        version            bigint NOT NULL DEFAULT 0,
        created_at         bigint NOT NULL,
        updated_at         bigint NOT NULL
      );

      -- 'lapsed': still open when its task left its worker (lease expired, task released); its money
      -- is no longer reserved, and a late settle still charges what the call cost.
      CREATE TABLE budget_reservations (
        reservation_id      text PRIMARY KEY,
        run_id              text NOT NULL REFERENCES budget_ledgers (run_id),
        task_id             text NOT NULL,
        agent_type          text,
        estimated_nano_usd  bigint NOT NULL CHECK (estimated_nano_usd >= 0),
        charged_nano_usd    bigint,
        is_price_known      boolean,
        state               text NOT NULL CHECK (state IN ('open', 'settled', 'released', 'lapsed')),
        -- The ledger's version at the grant and at the settle or release: which calls were in
        -- flight at any moment of the run, exactly, for an audit of the cap.
        granted_version     bigint NOT NULL,
        closed_version      bigint,
        created_at          bigint NOT NULL,
        closed_at           bigint
      );
      CREATE INDEX budget_reservations_open ON budget_reservations (task_id) WHERE state = 'open';
      CREATE INDEX budget_reservations_run ON budget_reservations (run_id, state);
    `,
  },
  {
    version: 4,
    name: 'a run process with no agents in the worker registry',
    sql: `
      -- loki run --parallel 0 coordinates a shared run and leaves every task to loki worker
      -- processes: it registers with 0 agents.
      ALTER TABLE workers DROP CONSTRAINT workers_parallel_check;
      ALTER TABLE workers ADD CONSTRAINT workers_parallel_check CHECK (parallel >= 0);
    `,
  },
];
