/**
 * Model calls of the pipeline's phases (planning, architecture, …) are not a task's: they are
 * reserved under the task id `phase:<phase>`. Only the session that runs the phases makes them —
 * `loki run` / `loki resume`, holding the run (and, on a distributed run, the merge coordinator's
 * lock) — so a phase call still open when the next such session opens the run belonged to a session
 * that died, and nobody will ever settle it.
 */
export const PHASE_CALL_TASK_PREFIX = 'phase:';

export function phaseCallTaskId(phase: string): string {
  return `${PHASE_CALL_TASK_PREFIX}${phase}`;
}
