import type { SQLOutputValue } from 'node:sqlite';
import type { EventType, LokiEvent, RunSettingsData } from '../../events/index.ts';
import type { BreakerSnapshot, BreakerState } from '../breaker-record.ts';
import type { Run, RunControlState, RunStatus } from '../store.ts';
import type { Task, TaskStatus } from '../task-record.ts';
import type { WorkerRecord, WorkerRole } from '../worker-record.ts';

/** Row decoding. Rows come from our own schema, so a type mismatch is a bug: fail loudly. */
type Row = Record<string, SQLOutputValue>;

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${typeof value}`);
  return value;
}

function optionalText(row: Row, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${typeof value}`);
  return value;
}

function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`column ${column}: expected a number, got ${typeof value}`);
  return value;
}

function optionalInteger(row: Row, column: string): number | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') throw new Error(`column ${column}: expected a number, got ${typeof value}`);
  return value;
}

function optionalJson(row: Row, column: string): unknown {
  const value = optionalText(row, column);
  return value === null ? null : JSON.parse(value);
}

export function rowToTask(row: Row): Task {
  return {
    id: text(row, 'id'),
    type: text(row, 'type'),
    title: text(row, 'title'),
    description: text(row, 'description'),
    priority: integer(row, 'priority'),
    dependencies: JSON.parse(text(row, 'dependencies')) as string[],
    payload: optionalJson(row, 'payload'),
    idempotencyKey: optionalText(row, 'idempotency_key'),
    runId: optionalText(row, 'run_id'),
    status: text(row, 'status') as TaskStatus,
    timeoutSeconds: integer(row, 'timeout_seconds'),
    maxAttempts: integer(row, 'max_attempts'),
    attemptCount: integer(row, 'attempt_count'),
    failureCount: integer(row, 'failure_count'),
    backoffSeconds: integer(row, 'backoff_seconds'),
    availableAt: integer(row, 'available_at'),
    createdAt: integer(row, 'created_at'),
    updatedAt: integer(row, 'updated_at'),
    claimedBy: optionalText(row, 'claimed_by'),
    claimedAt: optionalInteger(row, 'claimed_at'),
    leaseExpiresAt: optionalInteger(row, 'lease_expires_at'),
    completedAt: optionalInteger(row, 'completed_at'),
    lastError: optionalText(row, 'last_error'),
    result: optionalJson(row, 'result'),
  };
}

export function rowToEvent(row: Row): LokiEvent {
  return {
    sequence: integer(row, 'sequence'),
    type: text(row, 'type') as EventType,
    runId: optionalText(row, 'run_id'),
    taskId: optionalText(row, 'task_id'),
    data: JSON.parse(text(row, 'data')),
    createdAt: integer(row, 'created_at'),
  } as LokiEvent;
}

export function rowToRun(row: Row): Run {
  return {
    id: text(row, 'id'),
    status: text(row, 'status') as RunStatus,
    phase: text(row, 'phase'),
    prdPath: optionalText(row, 'prd_path'),
    settings: optionalJson(row, 'settings') as RunSettingsData | null,
    control: text(row, 'control') as RunControlState,
    startedAt: integer(row, 'started_at'),
    updatedAt: integer(row, 'updated_at'),
    endedAt: optionalInteger(row, 'ended_at'),
  };
}

export function rowToBreaker(row: Row): BreakerSnapshot {
  return {
    name: text(row, 'name'),
    state: text(row, 'state') as BreakerState,
    consecutiveFailures: integer(row, 'consecutive_failures'),
    halfOpenSuccesses: integer(row, 'half_open_successes'),
    openedAt: optionalInteger(row, 'opened_at'),
    updatedAt: integer(row, 'updated_at'),
  };
}

/** A worker row, with the tasks it holds (read separately: see attributeTasks). */
export function rowToWorker(row: Row, taskIds: string[]): WorkerRecord {
  return {
    id: text(row, 'id'),
    machine: text(row, 'machine'),
    pid: integer(row, 'pid'),
    role: text(row, 'role') as WorkerRole,
    runId: optionalText(row, 'run_id'),
    parallel: integer(row, 'parallel'),
    types: optionalJson(row, 'types') as string[] | null,
    heartbeatMilliseconds: integer(row, 'heartbeat_ms'),
    startedAt: integer(row, 'started_at'),
    lastHeartbeatAt: integer(row, 'last_heartbeat_at'),
    stoppedAt: optionalInteger(row, 'stopped_at'),
    taskIds,
  };
}
