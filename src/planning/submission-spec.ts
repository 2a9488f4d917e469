import type { z } from 'zod';
import type { NewEvent } from '../events/index.ts';
import type { CliBudget } from '../providers/index.ts';
import type { AgentLoopOptions, CallBudget } from '../runtime/index.ts';
import type { RequirementsDocument } from './requirements-schema.ts';

export interface SubmissionSpec<T> {
  /** The phase's name in messages, e.g. "Discovery". */
  phase: string;
  /** Error codes start with it: `<PREFIX>_INVALID_OUTPUT`, `<PREFIX>_NO_OUTPUT`, `<PREFIX>_ABORTED`. */
  codePrefix: string;
  toolName: string;
  toolDescription: string;
  /** What the model sees as the tool's input schema. */
  inputSchema: z.ZodObject;
  system: string;
  prompt: string;
  /** The real check, including what the schema cannot see; errors are lines the model can act on. */
  validate: (input: unknown) => { ok: true; value: T } | { ok: false; errors: string[] };
  /** "42 requirements", for the tool result and the agent's summary. */
  describe: (value: T) => string;
  /** What the user can do when the model never produces valid output. */
  advice: string;
  /**
   * What `validate` checks against besides the input, for a runtime that validates in another
   * process too (`loki mcp-tools --context`): the requirements a plan must cover, the task ids a
   * Growth proposal must not reuse.
   */
  checkedAgainst?: { requirements: RequirementsDocument; existingTaskIds?: readonly string[] };
  /** Likewise for a review: the change's files and their line counts, which findings must point into. */
  changedFiles?: ReadonlyMap<string, number>;
}

/** What every runtime of a planning agent gets from the phase that runs it. */
export interface SubmissionRunOptions {
  emit: (event: NewEvent) => void;
  retry: AgentLoopOptions['retry'];
  runId: string | null;
  /** Invalid submissions answered with their errors before the phase gives up. */
  maxRepairRounds?: number;
  maxSteps?: number;
  /** Consulted before every model call, whether Loki's tool loop or an agent CLI makes it. */
  budget?: CallBudget & CliBudget;
  signal?: AbortSignal;
}

/**
 * Runs a planning agent that must hand in one validated document through one tool, on whatever
 * runtime the provider has (Loki's tool loop over an API model, Claude Code with Loki's MCP tool).
 */
export type SubmissionRunner = <T>(spec: SubmissionSpec<T>, options: SubmissionRunOptions) => Promise<T>;

/** The runner's part of a phase's options (the phase's own inputs stay with the phase). */
export function submissionRunOptions(options: SubmissionRunOptions): SubmissionRunOptions {
  return {
    emit: options.emit,
    retry: options.retry,
    runId: options.runId,
    ...(options.maxRepairRounds === undefined ? {} : { maxRepairRounds: options.maxRepairRounds }),
    ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}
