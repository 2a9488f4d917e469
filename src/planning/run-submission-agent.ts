import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { z } from 'zod';
import { ExitCode, LokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import { priceUsage } from '../providers/index.ts';
import { type AgentLoopOptions, type CallBudget, runAgentLoop, type ToolOutcome } from '../runtime/index.ts';

export interface SubmissionAgentOptions {
  model: LanguageModelV4;
  provider: string;
  emit: (event: NewEvent) => void;
  retry: AgentLoopOptions['retry'];
  runId: string | null;
  /** Invalid submissions answered with their errors before the phase gives up. */
  maxRepairRounds?: number;
  maxSteps?: number;
  price?: AgentLoopOptions['price'];
  budget?: CallBudget;
  signal?: AbortSignal;
}

export interface SubmissionSpec<T> {
  /** The phase's name in messages, e.g. "Discovery". */
  phase: string;
  /** Error codes start with it: `<PREFIX>_INVALID_OUTPUT`, `<PREFIX>_NO_OUTPUT`, `<PREFIX>_ABORTED`. */
  codePrefix: string;
  toolName: string;
  toolDescription: string;
  /** What the model sees as the tool's input schema. */
  inputSchema: z.ZodType;
  system: string;
  prompt: string;
  /** The real check, including what the schema cannot see; errors are lines the model can act on. */
  validate: (input: unknown) => { ok: true; value: T } | { ok: false; errors: string[] };
  /** "42 requirements", for the tool result and the agent's summary. */
  describe: (value: T) => string;
  /** What the user can do when the model never produces valid output. */
  advice: string;
}

const DEFAULT_MAX_REPAIR_ROUNDS = 2;
const DEFAULT_MAX_STEPS = 8;

/**
 * A planning agent that must hand in one validated document through one tool. The model only
 * proposes: a submission counts only when it passes validation; an invalid one goes back to the
 * model with the errors (a repair round), and after `maxRepairRounds` failed repairs the phase fails.
 */
export async function runSubmissionAgent<T>(
  spec: SubmissionSpec<T>,
  options: SubmissionAgentOptions,
): Promise<T> {
  const maxRepairRounds = options.maxRepairRounds ?? DEFAULT_MAX_REPAIR_ROUNDS;
  // Aborted by the phase itself when the repair rounds run out, so the loop stops before another call.
  const stopController = new AbortController();
  const signal =
    options.signal === undefined
      ? stopController.signal
      : AbortSignal.any([options.signal, stopController.signal]);
  let accepted: { value: T } | null = null;
  let invalidSubmissions = 0;
  let lastErrors: string[] = [];

  const executeTool = async (call: { toolName: string; input: unknown }): Promise<ToolOutcome> => {
    if (call.toolName !== spec.toolName) {
      return { isError: true, output: `unknown tool "${call.toolName}": the only tool is ${spec.toolName}` };
    }
    const validation = spec.validate(call.input);
    if (validation.ok) {
      accepted = { value: validation.value };
      const description = spec.describe(validation.value);
      return {
        isError: false,
        output: `accepted ${description}`,
        completion: { summary: description, filesChanged: [], testsRun: [] },
      };
    }
    invalidSubmissions += 1;
    lastErrors = validation.errors;
    const roundsLeft = maxRepairRounds - (invalidSubmissions - 1);
    if (roundsLeft <= 0) stopController.abort(new Error(`${spec.phase} repair rounds exhausted`));
    return {
      isError: true,
      output: [
        `The submission is invalid (${validation.errors.length} problems):`,
        ...validation.errors.map((error) => `- ${error}`),
        roundsLeft > 0
          ? `Fix every problem and call ${spec.toolName} again with the complete document.`
          : 'No repair rounds are left.',
      ].join('\n'),
    };
  };

  const result = await runAgentLoop({
    model: options.model,
    provider: options.provider,
    system: spec.system,
    messages: [{ role: 'user', content: [{ type: 'text', text: spec.prompt }] }],
    tools: [{ name: spec.toolName, description: spec.toolDescription, inputSchema: spec.inputSchema }],
    executeTool,
    price: options.price ?? ((modelId, usage) => priceUsage(modelId, usage)),
    maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
    retry: options.retry,
    emit: options.emit,
    runId: options.runId,
    taskId: null,
    signal,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  });

  const done = accepted as { value: T } | null;
  if (done !== null) return done.value;
  if (options.signal?.aborted) {
    throw new LokiError(`${spec.phase} was stopped before its output was accepted.`, {
      code: `${spec.codePrefix}_ABORTED`,
      category: 'user',
      exitCode: ExitCode.interrupted,
      context: { steps: result.steps },
    });
  }
  if (invalidSubmissions > 0) {
    throw new LokiError(
      [
        `The model's ${spec.phase} output was still invalid after ${invalidSubmissions} submissions:`,
        ...lastErrors.map((error) => `  - ${error}`),
        spec.advice,
      ].join('\n'),
      {
        code: `${spec.codePrefix}_INVALID_OUTPUT`,
        category: 'provider',
        context: { invalidSubmissions, errors: lastErrors, reason: result.reason },
      },
    );
  }
  throw new LokiError(
    `${spec.phase} ended (${result.reason}) without the model calling ${spec.toolName}; run again or try another model.`,
    {
      code: `${spec.codePrefix}_NO_OUTPUT`,
      category: 'provider',
      context: { reason: result.reason, steps: result.steps },
    },
  );
}
