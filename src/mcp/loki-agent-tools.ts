import { z } from 'zod';
import { usageError } from '../errors/index.ts';
import {
  improvementPlanSchema,
  requirementsDocumentSchema,
  architectureDocumentSchema,
  SUBMIT_ARCHITECTURE_TOOL,
  SUBMIT_IMPROVEMENTS_TOOL,
  SUBMIT_REQUIREMENTS_TOOL,
  validateArchitecture,
  validateImprovementPlan,
  validateRequirements,
  type RequirementsDocument,
} from '../planning/index.ts';
import { reviewSubmissionSchema, SUBMIT_REVIEW_TOOL, validateReviewSubmission } from '../review/index.ts';
import { formatInputError, taskCompleteTool } from '../tools/index.ts';

/** Names of the tools `loki mcp-tools` can serve; the same names as on the API path. */
export const LOKI_AGENT_TOOL_NAMES = [
  'task_complete',
  SUBMIT_REQUIREMENTS_TOOL,
  SUBMIT_ARCHITECTURE_TOOL,
  SUBMIT_IMPROVEMENTS_TOOL,
  SUBMIT_REVIEW_TOOL,
] as const;
export type LokiAgentToolName = (typeof LOKI_AGENT_TOOL_NAMES)[number];

/**
 * What the submission tools validate against besides their input: the requirements an
 * architecture must cover, the tasks a Growth proposal must not clash with.
 */
export const lokiToolContextSchema = z.strictObject({
  requirements: requirementsDocumentSchema.optional(),
  existingTaskIds: z.array(z.string()).optional(),
  /** A review's change: each file and its line count (findings must point into them). */
  changedFiles: z.record(z.string(), z.int().nonnegative()).optional(),
});
export type LokiToolContext = z.output<typeof lokiToolContextSchema>;

/** A tool as an agent CLI sees it over MCP: the answer is text; `isError` asks the model to fix its call. */
export interface LokiAgentTool {
  readonly name: LokiAgentToolName;
  readonly description: string;
  readonly inputSchema: z.ZodType;
  /** Validates the call exactly as the API path does; the text is what the model reads. */
  call(input: unknown): { isError: boolean; text: string };
}

/**
 * Builds the tools a session asked for. The MCP server only answers whether a call is valid:
 * Loki reads the accepted call from the agent CLI's own event stream and validates it again,
 * so nothing the server process says decides what Loki does.
 */
export function createLokiAgentTools(
  names: readonly LokiAgentToolName[],
  context: LokiToolContext,
): LokiAgentTool[] {
  return names.map((name) => TOOL_FACTORIES[name](context));
}

type ToolFactory = (context: LokiToolContext) => LokiAgentTool;

const TOOL_FACTORIES: Record<LokiAgentToolName, ToolFactory> = {
  task_complete: () => ({
    name: 'task_complete',
    description: taskCompleteTool.description,
    inputSchema: taskCompleteTool.inputSchema,
    call(input) {
      const parsed = taskCompleteTool.inputSchema.safeParse(input);
      if (!parsed.success) {
        const fields = Object.keys(taskCompleteTool.inputSchema.shape);
        return { isError: true, text: formatInputError('task_complete', parsed.error, fields) };
      }
      return { isError: false, text: 'Task marked complete; the harness will now verify it.' };
    },
  }),
  submit_requirements: () =>
    submissionTool(
      SUBMIT_REQUIREMENTS_TOOL,
      'Submit the complete list of requirements and assumptions derived from the PRD.',
      requirementsDocumentSchema,
      (input) => {
        const validation = validateRequirements(input);
        return validation.ok
          ? { ok: true, description: `${validation.requirements.requirements.length} requirements` }
          : validation;
      },
    ),
  submit_architecture: (context) => {
    const requirements = requiredRequirements(context, SUBMIT_ARCHITECTURE_TOOL);
    return submissionTool(
      SUBMIT_ARCHITECTURE_TOOL,
      'Submit the architecture, the tech stack, the OpenAPI document and the task DAG.',
      architectureDocumentSchema,
      (input) => {
        const validation = validateArchitecture(input, requirements.requirements);
        return validation.ok
          ? { ok: true, description: `an architecture with ${validation.architecture.tasks.length} tasks` }
          : validation;
      },
    );
  },
  submit_improvements: (context) => {
    const requirements = requiredRequirements(context, SUBMIT_IMPROVEMENTS_TOOL);
    const existingTaskIds = new Set(context.existingTaskIds ?? []);
    return submissionTool(
      SUBMIT_IMPROVEMENTS_TOOL,
      'Submit the improvement tasks of this Growth iteration (an empty list ends perpetual mode).',
      improvementPlanSchema,
      (input) => {
        const validation = validateImprovementPlan(input, requirements, existingTaskIds);
        return validation.ok
          ? { ok: true, description: `${validation.value.tasks.length} improvement tasks` }
          : validation;
      },
    );
  },
  submit_review: (context) => {
    const changedFiles = new Map(Object.entries(context.changedFiles ?? {}));
    return submissionTool(
      SUBMIT_REVIEW_TOOL,
      'Hand in your review of the change: a summary and your findings (an empty list approves it).',
      reviewSubmissionSchema,
      (input) => {
        const validation = validateReviewSubmission(input, changedFiles);
        return validation.ok
          ? {
              ok: true,
              description:
                validation.value.findings.length === 0
                  ? 'an approval'
                  : `a review with ${validation.value.findings.length} findings`,
            }
          : validation;
      },
    );
  },
};

type SubmissionCheck = (
  input: unknown,
) => { ok: true; description: string } | { ok: false; errors: string[] };

/** The same answers as the API path's submission tools: "accepted …", or every problem, one per line. */
function submissionTool(
  name: LokiAgentToolName,
  description: string,
  inputSchema: z.ZodType,
  check: SubmissionCheck,
): LokiAgentTool {
  return {
    name,
    description,
    inputSchema,
    call(input) {
      const validation = check(input);
      if (validation.ok) return { isError: false, text: `accepted ${validation.description}` };
      return {
        isError: true,
        text: [
          `The submission is invalid (${validation.errors.length} problems):`,
          ...validation.errors.map((error) => `- ${error}`),
          `Fix every problem and call ${name} again with the complete document.`,
        ].join('\n'),
      };
    },
  };
}

function requiredRequirements(context: LokiToolContext, toolName: string): RequirementsDocument {
  if (context.requirements !== undefined) return context.requirements;
  throw usageError(
    'MCP_TOOLS_CONTEXT_MISSING',
    `${toolName} validates against the requirements; pass them in a context file (--context <file> holding {"requirements": …}).`,
  );
}
