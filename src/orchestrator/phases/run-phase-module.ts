import type { RunOutcomeWord } from '../../events/index.ts';
import type { RunPhase } from '../../planning/index.ts';
import type { RunContext, RunProducts } from './run-context.ts';

/** How a run ends: its outcome (the report's word), the exit code of `loki run`, one line for the user. */
export interface RunEnding {
  outcome: RunOutcomeWord;
  exitCode: number;
  summary: string;
}

/**
 * What a phase's criteria, checked by code, decided. passed: the phase goes on (its next step, or
 * the next phase). failed or stopped: the phase ends here and the run with it, as `ending` says; or
 * with `error` thrown, a failure the run cannot get past (the pipeline ends the run failed).
 */
export type PhaseVerdict =
  | { outcome: 'passed'; details: string }
  | { outcome: 'failed' | 'stopped'; details: string; ending: RunEnding }
  | { outcome: 'failed'; details: string; error: unknown };

/** One step of a phase's work: it does its part, then checks the exit criterion it answers for. */
export type PhaseStep = (context: RunContext, phase: RunPhase) => Promise<PhaseVerdict>;

/**
 * A phase of `loki run`, one shape for all of them; the pipeline walks them in order (see
 * `runPipeline`): phase.entered → entry criteria → the steps → phase.exited → the next phase, or
 * the end of the run. A new step (verification, review, deployment) is one more entry in a phase's
 * `steps` or one more module in `RUN_PHASE_MODULES`.
 */
export interface RunPhaseModule {
  readonly name: RunPhase;
  /** Whether this run has the phase at all (Growth: only with --perpetual). One left out is not entered. */
  readonly isPartOfRun?: (context: RunContext) => boolean;
  /** Entry criteria: what the phase needs from the earlier ones (checked by the pipeline, not the phase). */
  readonly needs: readonly (keyof RunProducts)[];
  /**
   * The work, in order, each step with its exit criterion. Every step passed: the phase passed,
   * its details those of its steps; the first step that did not pass ends the phase (and the run).
   */
  readonly steps: readonly PhaseStep[];
}
