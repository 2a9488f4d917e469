import {
  type RequirementsDocument,
  requirementsDocumentSchema,
  validateRequirements,
} from './requirements-schema.ts';
import { submissionRunOptions, type SubmissionRunner, type SubmissionRunOptions } from './submission-spec.ts';

export const SUBMIT_REQUIREMENTS_TOOL = 'submit_requirements';

export interface RunDiscoveryOptions extends SubmissionRunOptions {
  /** The provider's way of running a planning agent (see AgentSource.runSubmission). */
  runSubmission: SubmissionRunner;
  prdText: string;
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
  return options.runSubmission(
    {
      phase: 'Discovery',
      codePrefix: 'DISCOVERY',
      toolName: SUBMIT_REQUIREMENTS_TOOL,
      toolDescription: 'Submit the complete list of requirements and assumptions derived from the PRD.',
      inputSchema: requirementsDocumentSchema,
      system: DISCOVERY_SYSTEM_PROMPT,
      prompt: `PRD:\n\n${options.prdText}`,
      validate: (input) => {
        const validation = validateRequirements(input);
        return validation.ok ? { ok: true, value: validation.requirements } : validation;
      },
      describe: (document) => `${document.requirements.length} requirements`,
      advice: 'Try a stronger planning model or a clearer PRD, then run again.',
    },
    submissionRunOptions(options),
  );
}
