import { ExitCode } from '../../errors/index.ts';
import type { RunPhase } from '../../planning/index.ts';
import type { SchedulerResult } from '../scheduler.ts';
import type { PhaseVerdict } from './run-phase-module.ts';

/** What the scheduler's ending means for the phase it ran in: null (done) lets the phase go on. */
export function schedulerVerdict(result: SchedulerResult, phase: RunPhase): PhaseVerdict | null {
  return result.outcome === 'done' ? null : interruptedVerdict(result, phase);
}

/** Stopped, budget, blocked and stalled end the run with their own outcome; fatal is thrown. */
export function interruptedVerdict(
  result: Exclude<SchedulerResult, { outcome: 'done' }>,
  phase: RunPhase,
): PhaseVerdict {
  switch (result.outcome) {
    case 'stopped':
      return {
        outcome: 'stopped',
        details: 'stopped by the user',
        ending: {
          outcome: 'stopped',
          exitCode: ExitCode.interrupted,
          summary: `stopped during ${phase}; loki resume continues where it stopped`,
        },
      };
    case 'budget':
      return {
        outcome: 'stopped',
        details: 'budget cap reached',
        ending: {
          outcome: 'budget',
          exitCode: ExitCode.budgetStop,
          summary: `the budget cap was reached during ${phase}; no new work was started`,
        },
      };
    case 'blocked': {
      const names = result.deadLettered
        .map((task) => `${task.id} (${task.lastError ?? 'failed'})`)
        .join('; ');
      return {
        outcome: 'failed',
        details: `dead-lettered: ${names}`,
        ending: {
          outcome: 'blocked',
          exitCode: ExitCode.blocked,
          summary: `dead-lettered work needs a human: ${names}. Fix the cause, then loki queue retry <id> and loki resume`,
        },
      };
    }
    case 'stalled': {
      const names = result.waiting.map((task) => task.id).join(', ');
      return {
        outcome: 'failed',
        details: `no progress possible: ${names} can never run`,
        ending: {
          outcome: 'stalled',
          exitCode: ExitCode.stalled,
          summary: `no progress possible: ${names} wait for work that will not happen (cancelled?)`,
        },
      };
    }
    case 'fatal':
      return {
        outcome: 'failed',
        details: result.error instanceof Error ? result.error.message : String(result.error),
        error: result.error,
      };
  }
}
