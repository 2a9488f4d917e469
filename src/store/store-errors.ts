import { LokiError } from '../errors/index.ts';

/** A named task does not exist. */
export function taskNotFound(taskId: string): LokiError {
  return new LokiError(`no task with id "${taskId}"; list tasks with: loki queue list`, {
    code: 'TASK_NOT_FOUND',
    category: 'user',
    context: { taskId },
  });
}

/** The worker no longer holds the task (its lease expired and it was reclaimed, or it was cancelled). */
export function taskLeaseLost(
  taskId: string,
  workerId: string,
  holder: string | null,
  status: string,
): LokiError {
  return new LokiError(
    `worker "${workerId}" no longer holds task "${taskId}" (status ${status}, held by ${holder ?? 'nobody'}); its result was not recorded`,
    { code: 'TASK_LEASE_LOST', category: 'internal', context: { taskId, workerId, holder, status } },
  );
}

export function invalidTaskTransition(
  taskId: string,
  status: string,
  action: string,
  hint: string,
): LokiError {
  return new LokiError(`cannot ${action} task "${taskId}": it is ${status.replace('_', ' ')}; ${hint}`, {
    code: 'TASK_INVALID_TRANSITION',
    category: 'user',
    context: { taskId, status, action },
  });
}

export function unknownDependency(taskId: string, dependencyId: string): LokiError {
  return new LokiError(
    `task "${taskId}" depends on "${dependencyId}", which does not exist; enqueue it first (or in the same batch) or fix the id`,
    { code: 'TASK_DEPENDENCY_UNKNOWN', category: 'user', context: { taskId, dependencyId } },
  );
}

export function duplicateIdempotencyKey(idempotencyKey: string, existingTaskId: string): LokiError {
  return new LokiError(
    `idempotency key "${idempotencyKey}" is already used by task "${existingTaskId}"; this task was not added again`,
    {
      code: 'TASK_DUPLICATE_IDEMPOTENCY_KEY',
      category: 'user',
      context: { idempotencyKey, existingTaskId },
    },
  );
}

export function duplicateTaskId(taskId: string): LokiError {
  return new LokiError(`a task with id "${taskId}" already exists; choose another id`, {
    code: 'TASK_DUPLICATE_ID',
    category: 'user',
    context: { taskId },
  });
}

/** Deferring `deferredTaskId` until `newTaskId` completes would deadlock: the new task waits for it. */
export function deferralCycle(deferredTaskId: string, newTaskId: string): LokiError {
  return new LokiError(
    `dependency cycle: task "${newTaskId}" depends (directly or through other tasks) on "${deferredTaskId}", which would wait for it; remove that dependency`,
    {
      code: 'TASK_DEPENDENCY_CYCLE',
      category: 'user',
      context: { deferredTaskId, newTaskId },
    },
  );
}

/** No run with this id in the store. */
export function runNotFound(runId: string): LokiError {
  return new LokiError(`no run with id "${runId}" in this workspace; see loki status`, {
    code: 'RUN_NOT_FOUND',
    category: 'user',
    context: { runId },
  });
}

/** A control request for a run that has ended (stopped, completed or failed). */
export function runNotRunning(runId: string, status: string, action: string): LokiError {
  const next =
    status === 'completed'
      ? 'it has nothing left to do'
      : 'loki resume continues it, and then it can be steered';
  return new LokiError(`cannot ${action} run ${runId}: it is ${status}, not running; ${next}`, {
    code: 'RUN_NOT_RUNNING',
    category: 'user',
    context: { runId, status, action },
  });
}

/** A pause or continue of a run that was asked to stop: the stop wins, it cannot be taken back. */
export function runStopping(runId: string, action: string): LokiError {
  return new LokiError(
    `cannot ${action} run ${runId}: it was asked to stop and is stopping; once it has stopped, loki resume continues it`,
    { code: 'RUN_STOPPING', category: 'user', context: { runId, action } },
  );
}
