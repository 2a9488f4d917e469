import type { Run, RunControlAction, RunControlState } from './store.ts';
import { runNotRunning, runStopping } from './store-errors.ts';

const STATE_AFTER: Record<RunControlAction, RunControlState> = {
  stop: 'stop',
  pause: 'pause',
  continue: 'none',
};

/**
 * The one rule every adapter applies to a control request: what the run's control becomes, or why
 * it is refused. Only a running run can be steered. A stop wins over a pause and cannot be taken
 * back by a pause or a continue (the run is already winding down; `loki resume` starts it again).
 * Asking for what already holds is allowed and changes nothing, so a request can safely be repeated.
 */
export function decideRunControl(run: Run, action: RunControlAction): RunControlState {
  if (run.status !== 'running') throw runNotRunning(run.id, run.status, action);
  if (run.control === 'stop' && action !== 'stop') throw runStopping(run.id, action);
  return STATE_AFTER[action];
}
