import { LokiError } from '../errors/index.ts';

/** Nothing to steer: the workspace has no run yet. */
export function noRunYet(action: string): LokiError {
  return new LokiError(`this workspace has no run to ${action}; start one with loki run <prd>`, {
    code: 'RUN_NOT_FOUND',
    category: 'user',
    context: { action },
  });
}

/** The store says running, but no process holds the run lock: nobody would act on the request. */
export function runProcessGone(runId: string, action: string): LokiError {
  return new LokiError(
    `cannot ${action} run ${runId}: its process is gone (a crash, kill -9 or a forced stop); loki resume continues it`,
    { code: 'RUN_PROCESS_GONE', category: 'user', context: { runId, action } },
  );
}

/** Its process holds the run lock, but the run is not running yet (starting) or any more (ending). */
export function runBetweenSessions(runId: string, action: string): LokiError {
  return new LokiError(
    `cannot ${action} run ${runId} now: its process is starting or ending it; try again in a moment (see loki status)`,
    { code: 'RUN_NOT_RUNNING', category: 'user', context: { runId, action } },
  );
}

/** The run was asked to stop (or could not be asked yet) and its process still holds the workspace. */
export function runStopTimeout(
  runId: string,
  pid: number,
  timeoutSeconds: number,
  isRequested: boolean,
): LokiError {
  const what = isRequested
    ? `was asked to stop and is still winding down after ${timeoutSeconds} s (agents finishing, tasks going back to the queue)`
    : `could not be asked to stop within ${timeoutSeconds} s (it is starting or ending)`;
  return new LokiError(
    `run ${runId} (pid ${pid}) ${what}. Wait and watch loki status, or force it: Ctrl-C in its terminal or kill -INT ${pid} (a forced stop leaves the clean-up to loki resume)`,
    { code: 'RUN_STOP_TIMEOUT', category: 'internal', context: { runId, pid, timeoutSeconds, isRequested } },
  );
}
