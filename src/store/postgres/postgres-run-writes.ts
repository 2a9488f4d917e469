/** The run and breaker transitions of the PostgreSQL store, each inside a PostgresTransaction. */
import type { RunSettingsRecordedData } from '../../events/index.ts';
import type { BreakerSnapshot } from '../breaker-record.ts';
import { decideRunControl } from '../decide-run-control.ts';
import { rowToRun } from '../sqlite/sqlite-rows.ts';
import type {
  NewRun,
  Run,
  RunChanges,
  RunControlAction,
  RunControlOutcome,
  RunControlRequest,
  RunStatus,
} from '../store.ts';
import { runStatusOf } from '../store.ts';
import { runNotFound } from '../store-errors.ts';
import type { PostgresTransaction } from './postgres-transaction.ts';

export async function createRun(tx: PostgresTransaction, run: NewRun): Promise<Run> {
  const row = await tx.row(
    `INSERT INTO runs (id, status, phase, prd_path, settings, started_at, updated_at)
     VALUES ($1, 'running', $2, $3, $4, $5, $5) RETURNING *`,
    [
      run.id,
      run.phase,
      run.prdPath,
      run.settings === undefined ? null : JSON.stringify(run.settings.settings),
      tx.now,
    ],
  );
  if (row === null) throw new Error('run insert returned no row');
  tx.appendEvent({
    type: 'run.started',
    runId: run.id,
    taskId: null,
    data: { prdPath: run.prdPath, resumed: false },
  });
  if (run.settings !== undefined) appendSettingsEvent(tx, run.id, run.settings);
  tx.appendEvent({ type: 'phase.entered', runId: run.id, taskId: null, data: { phase: run.phase } });
  return rowToRun(row);
}

export async function updateRun(tx: PostgresTransaction, runId: string, changes: RunChanges): Promise<Run> {
  const current = await tx.row('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [runId]);
  if (current === null) throw new Error(`no run with id "${runId}"`);
  const before = rowToRun(current);
  const phase = changes.phase ?? before.phase;
  const status = nextRunStatus(before.status, changes);
  const control = changes.control ?? before.control;
  const endedAt = status === 'running' ? null : (before.endedAt ?? tx.now);
  const settings = changes.settings === undefined ? null : JSON.stringify(changes.settings.settings);
  const row = await tx.row(
    `UPDATE runs SET phase = $1, status = $2, control = $3, ended_at = $4, updated_at = $5,
       settings = COALESCE($6, settings)
     WHERE id = $7 RETURNING *`,
    [phase, status, control, endedAt, tx.now, settings, runId],
  );
  if (row === null) throw new Error(`run update matched no row: ${runId}`);
  if (control !== before.control) {
    tx.appendEvent({ type: 'run.continued', runId, taskId: null, data: { requestedBy: 'resume' } });
  }
  if (changes.resume === true) {
    tx.appendEvent({
      type: 'run.started',
      runId,
      taskId: null,
      data: { prdPath: before.prdPath, resumed: true },
    });
  }
  if (changes.settings !== undefined) appendSettingsEvent(tx, runId, changes.settings);
  if (phase !== before.phase) {
    tx.appendEvent({ type: 'phase.entered', runId, taskId: null, data: { phase } });
  }
  if (status !== before.status && status !== 'running') {
    const outcome = changes.ending?.outcome ?? status;
    const data = { status, outcome, exitCode: changes.ending?.exitCode ?? null };
    tx.appendEvent({ type: 'run.ended', runId, taskId: null, data });
  }
  return rowToRun(row);
}

/** The status a run update leads to; a contradictory request is a programming error. */
function nextRunStatus(current: RunStatus, changes: RunChanges): RunStatus {
  const requested =
    changes.resume === true
      ? 'running'
      : changes.ending === undefined
        ? null
        : runStatusOf(changes.ending.outcome);
  if (requested !== null && changes.status !== undefined && changes.status !== requested) {
    throw new Error(`a run update asks for status ${changes.status} and ${requested} at once`);
  }
  if (changes.resume === true && changes.ending !== undefined) {
    throw new Error('a run update cannot resume and end the run at once');
  }
  return requested ?? changes.status ?? current;
}

function appendSettingsEvent(
  tx: PostgresTransaction,
  runId: string,
  recorded: RunSettingsRecordedData,
): void {
  tx.appendEvent({
    type: 'run.settings_recorded',
    runId,
    taskId: null,
    data: { settings: recorded.settings, given: [...recorded.given] },
  });
}

export async function requestRunControl(
  tx: PostgresTransaction,
  runId: string,
  request: RunControlRequest,
): Promise<RunControlOutcome> {
  const current = await tx.row('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [runId]);
  if (current === null) throw runNotFound(runId);
  const before = rowToRun(current);
  const control = decideRunControl(before, request.action);
  if (control === before.control) return { run: before, isChanged: false };
  const row = await tx.row('UPDATE runs SET control = $1, updated_at = $2 WHERE id = $3 RETURNING *', [
    control,
    tx.now,
    runId,
  ]);
  if (row === null) throw new Error(`run update matched no row: ${runId}`);
  tx.appendEvent({
    type: RUN_CONTROL_EVENTS[request.action],
    runId,
    taskId: null,
    data: { requestedBy: request.requestedBy },
  });
  return { run: rowToRun(row), isChanged: true };
}

const RUN_CONTROL_EVENTS = {
  stop: 'run.stop_requested',
  pause: 'run.paused',
  continue: 'run.continued',
} as const satisfies Record<RunControlAction, string>;

/**
 * Serialises every update of one breaker, from any connection, for the rest of the transaction: a
 * row lock cannot, since the first update of a breaker finds no row to lock. The lock's first key
 * is the store's namespace for breakers (ADVISORY_NAMESPACES in postgres-store.ts).
 */
export async function lockBreaker(tx: PostgresTransaction, name: string, namespace: number): Promise<void> {
  await tx.rows('SELECT pg_advisory_xact_lock($1, hashtext($2))', [namespace, name]);
}

export async function upsertBreaker(
  tx: PostgresTransaction,
  snapshot: BreakerSnapshot,
  changed: boolean,
): Promise<void> {
  await tx.rows(
    `INSERT INTO circuit_breakers (name, state, consecutive_failures, half_open_successes, opened_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (name) DO UPDATE SET state = excluded.state,
       consecutive_failures = excluded.consecutive_failures,
       half_open_successes = excluded.half_open_successes,
       opened_at = excluded.opened_at, updated_at = excluded.updated_at`,
    [
      snapshot.name,
      snapshot.state,
      snapshot.consecutiveFailures,
      snapshot.halfOpenSuccesses,
      snapshot.openedAt,
      snapshot.updatedAt,
    ],
  );
  if (changed) {
    tx.appendEvent({
      type: 'breaker.changed',
      runId: null,
      taskId: null,
      data: {
        breaker: snapshot.name,
        state: snapshot.state,
        consecutiveFailures: snapshot.consecutiveFailures,
      },
    });
  }
}
