import type { LanguageModelV4 } from '@ai-sdk/provider';
import { ExitCode, LokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import { priceUsage } from '../providers/index.ts';
import { type AgentLoopOptions, type CallBudget, runAgentLoop, type ToolOutcome } from '../runtime/index.ts';
import {
  type RequirementsDocument,
  requirementsDocumentSchema,
  validateRequirements,
} from './requirements-schema.ts';

export const SUBMIT_REQUIREMENTS_TOOL = 'submit_requirements';
const DEFAULT_MAX_REPAIR_ROUNDS = 2;
const DEFAULT_MAX_STEPS = 8;

export interface RunDiscoveryOptions {
  model: LanguageModelV4;
  provider: string;
  prdText: string;
  emit: (event: NewEvent) => void;
  retry: AgentLoopOptions['retry'];
  runId: string | null;
  /** Invalid submissions answered with their errors before Discovery gives up. */
  maxRepairRounds?: number;
  maxSteps?: number;
  price?: AgentLoopOptions['price'];
  budget?: CallBudget;
  signal?: AbortSignal;
}

export const DISCOVERY_SYSTEM_PROMPT = [
  'You are the planning agent of Loki Mode, in the Discovery phase.',
  'Read the product requirements document (PRD) and turn it into typed requirements.',
  `Submit them by calling ${SUBMIT_REQUIREMENTS_TOOL} exactly once with every requirement:`,
  '- ids REQ-001, REQ-002, … consecutive in list order;',
  '- a short title, a description, and at least one testable acceptance criterion each;',
  '- kind "functional" or "non-functional" (performance, security, accessibility, operations…);',
  '- priority "must", "should" or "could";',
  '- assumptions: what you had to assume because the PRD does not say.',
  `If ${SUBMIT_REQUIREMENTS_TOOL} answers with errors, fix every listed problem and call it again.`,
].join('\n');

/**
 * Discovery: a planning agent turns the PRD into validated requirements. The model only proposes:
 * a submission counts only when it passes validation; an invalid one goes back to the model with
 * the errors (a repair round), and after `maxRepairRounds` failed repairs Discovery fails.
 */
export async function runDiscovery(options: RunDiscoveryOptions): Promise<RequirementsDocument> {
  const maxRepairRounds = options.maxRepairRounds ?? DEFAULT_MAX_REPAIR_ROUNDS;
  // Aborted by Discovery itself when the repair rounds run out, so the loop stops before another call.
  const stopController = new AbortController();
  const signal =
    options.signal === undefined
      ? stopController.signal
      : AbortSignal.any([options.signal, stopController.signal]);
  let accepted: RequirementsDocument | null = null;
  let invalidSubmissions = 0;
  let lastErrors: string[] = [];

  const executeTool = async (call: { toolName: string; input: unknown }): Promise<ToolOutcome> => {
    if (call.toolName !== SUBMIT_REQUIREMENTS_TOOL) {
      return {
        isError: true,
        output: `unknown tool "${call.toolName}": the only tool is ${SUBMIT_REQUIREMENTS_TOOL}`,
      };
    }
    const validation = validateRequirements(call.input);
    if (validation.ok) {
      accepted = validation.requirements;
      const count = validation.requirements.requirements.length;
      return {
        isError: false,
        output: `accepted ${count} requirements`,
        completion: { summary: `${count} requirements`, filesChanged: [], testsRun: [] },
      };
    }
    invalidSubmissions += 1;
    lastErrors = validation.errors;
    const roundsLeft = maxRepairRounds - (invalidSubmissions - 1);
    if (roundsLeft <= 0) stopController.abort(new Error('discovery repair rounds exhausted'));
    return {
      isError: true,
      output: [
        `The requirements are invalid (${validation.errors.length} problems):`,
        ...validation.errors.map((error) => `- ${error}`),
        roundsLeft > 0
          ? `Fix every problem and call ${SUBMIT_REQUIREMENTS_TOOL} again with the complete list.`
          : 'No repair rounds are left.',
      ].join('\n'),
    };
  };

  const result = await runAgentLoop({
    model: options.model,
    provider: options.provider,
    system: DISCOVERY_SYSTEM_PROMPT,
    messages: [{ role: 'user', content: [{ type: 'text', text: `PRD:\n\n${options.prdText}` }] }],
    tools: [
      {
        name: SUBMIT_REQUIREMENTS_TOOL,
        description: 'Submit the complete list of requirements and assumptions derived from the PRD.',
        inputSchema: requirementsDocumentSchema,
      },
    ],
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

  if (accepted !== null) return accepted;
  if (options.signal?.aborted) {
    throw new LokiError('Discovery was stopped before the requirements were accepted.', {
      code: 'DISCOVERY_ABORTED',
      category: 'user',
      exitCode: ExitCode.interrupted,
      context: { steps: result.steps },
    });
  }
  if (invalidSubmissions > 0) {
    throw new LokiError(
      [
        `The model's requirements were still invalid after ${invalidSubmissions} submissions:`,
        ...lastErrors.map((error) => `  - ${error}`),
        'Try a stronger planning model or a clearer PRD, then run again.',
      ].join('\n'),
      {
        code: 'DISCOVERY_INVALID_OUTPUT',
        category: 'provider',
        context: { invalidSubmissions, errors: lastErrors, reason: result.reason },
      },
    );
  }
  throw new LokiError(
    `Discovery ended (${result.reason}) without the model submitting requirements; run again or try another model.`,
    {
      code: 'DISCOVERY_NO_OUTPUT',
      category: 'provider',
      context: { reason: result.reason, steps: result.steps },
    },
  );
}
