import { ExitCode, LokiError } from '../errors/index.ts';
import type { SubmissionSpec } from './submission-spec.ts';

export const DEFAULT_MAX_REPAIR_ROUNDS = 2;

/** The answer to one call of the submission tool. */
export interface SubmissionVerdict {
  isError: boolean;
  output: string;
  /** Set when this call's document was accepted. */
  accepted: boolean;
  /** What was accepted, e.g. "42 requirements"; null for an invalid submission. */
  summary: string | null;
}

/**
 * Judges the calls of a planning agent's submission tool, whichever runtime carries them (Loki's
 * tool loop, Claude Code's MCP tool): a submission counts only when it passes validation; an
 * invalid one goes back with the errors (a repair round); after `maxRepairRounds` failed repairs
 * `isExhausted` turns true and the session must stop.
 */
export class SubmissionJudge<T> {
  readonly #spec: SubmissionSpec<T>;
  readonly #maxRepairRounds: number;
  #accepted: { value: T } | null = null;
  #invalidSubmissions = 0;
  #lastErrors: string[] = [];

  constructor(spec: SubmissionSpec<T>, maxRepairRounds = DEFAULT_MAX_REPAIR_ROUNDS) {
    this.#spec = spec;
    this.#maxRepairRounds = maxRepairRounds;
  }

  get hasAccepted(): boolean {
    return this.#accepted !== null;
  }

  get isExhausted(): boolean {
    return this.#accepted === null && this.#invalidSubmissions > this.#maxRepairRounds;
  }

  judge(input: unknown): SubmissionVerdict {
    const spec = this.#spec;
    const validation = spec.validate(input);
    if (validation.ok) {
      this.#accepted = { value: validation.value };
      const summary = spec.describe(validation.value);
      return { isError: false, output: `accepted ${summary}`, accepted: true, summary };
    }
    this.#invalidSubmissions += 1;
    this.#lastErrors = validation.errors;
    const roundsLeft = this.#maxRepairRounds - (this.#invalidSubmissions - 1);
    return {
      isError: true,
      accepted: false,
      summary: null,
      output: [
        `The submission is invalid (${validation.errors.length} problems):`,
        ...validation.errors.map((error) => `- ${error}`),
        roundsLeft > 0
          ? `Fix every problem and call ${spec.toolName} again with the complete document.`
          : 'No repair rounds are left.',
      ].join('\n'),
    };
  }

  /** The accepted document, or the error that says why there is none. */
  outcome(ending: { reason: string; steps: number; wasStopped: boolean }): T {
    const spec = this.#spec;
    if (this.#accepted !== null) return this.#accepted.value;
    if (ending.wasStopped) {
      throw new LokiError(`${spec.phase} was stopped before its output was accepted.`, {
        code: `${spec.codePrefix}_ABORTED`,
        category: 'user',
        exitCode: ExitCode.interrupted,
        context: { steps: ending.steps },
      });
    }
    if (this.#invalidSubmissions > 0) {
      throw new LokiError(
        [
          `The model's ${spec.phase} output was still invalid after ${this.#invalidSubmissions} submissions:`,
          ...this.#lastErrors.map((error) => `  - ${error}`),
          spec.advice,
        ].join('\n'),
        {
          code: `${spec.codePrefix}_INVALID_OUTPUT`,
          category: 'provider',
          context: {
            invalidSubmissions: this.#invalidSubmissions,
            errors: this.#lastErrors,
            reason: ending.reason,
          },
        },
      );
    }
    throw new LokiError(
      `${spec.phase} ended (${ending.reason}) without the model calling ${spec.toolName}; run again or try another model.`,
      {
        code: `${spec.codePrefix}_NO_OUTPUT`,
        category: 'provider',
        context: { reason: ending.reason, steps: ending.steps },
      },
    );
  }
}
