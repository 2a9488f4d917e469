import { LokiError } from '../errors/index.ts';
import type { ModelFailure } from '../providers/index.ts';
import { SubmissionJudge, type SubmissionVerdict } from './submission-judge.ts';
import type { SubmissionRunOptions, SubmissionSpec } from './submission-spec.ts';

/**
 * One planning session of an agent CLI (Claude Code, Codex) handing in one document: the judge,
 * the signal that stops the session when the repair rounds run out, and the ending. The two CLIs
 * differ only in how a call reaches `handIn` (an in-process MCP handler, or Codex's event stream).
 */
export class CliSubmission<T> {
  readonly #spec: SubmissionSpec<T>;
  readonly #options: SubmissionRunOptions;
  readonly #judge: SubmissionJudge<T>;
  readonly #stopController = new AbortController();
  /** The session's signal: the caller's, or the judge's when the repair rounds are used up. */
  readonly signal: AbortSignal;

  constructor(spec: SubmissionSpec<T>, options: SubmissionRunOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#judge = new SubmissionJudge(spec, options.maxRepairRounds);
    this.signal =
      options.signal === undefined
        ? this.#stopController.signal
        : AbortSignal.any([options.signal, this.#stopController.signal]);
  }

  /** Judges one call of the submission tool; the session stops once no repair round is left. */
  handIn(input: unknown): SubmissionVerdict {
    const verdict = this.#judge.judge(input);
    if (this.#judge.isExhausted) {
      this.#stopController.abort(new Error(`${this.#spec.phase} repair rounds exhausted`));
    }
    return verdict;
  }

  /** The accepted document, or the phase's error: the session's own failure, or the judge's. */
  finish(result: { failure: ModelFailure | null; reason: string; steps: number }): T {
    const wasStopped = this.#options.signal?.aborted === true;
    const judge = this.#judge;
    if (result.failure !== null && !judge.hasAccepted && !judge.isExhausted && !wasStopped) {
      // The session failed (auth, quota, a crash) before the planner handed in anything valid.
      throw new LokiError(`${this.#spec.phase} failed: ${result.failure.message}`, {
        code: result.failure.code,
        category: 'provider',
        context: { phase: this.#spec.phase, failureCategory: result.failure.category },
      });
    }
    return judge.outcome({ reason: result.reason, steps: result.steps, wasStopped });
  }
}
