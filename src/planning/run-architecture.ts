import { AGENT_CATALOG } from '../agents/index.ts';
import {
  type ArchitectureDocument,
  architectureDocumentSchema,
  validateArchitecture,
} from './architecture-schema.ts';
import type { RequirementsDocument } from './requirements-schema.ts';
import { submissionRunOptions, type SubmissionRunner, type SubmissionRunOptions } from './submission-spec.ts';

export const SUBMIT_ARCHITECTURE_TOOL = 'submit_architecture';

export interface RunArchitectureOptions extends SubmissionRunOptions {
  /** The provider's way of running a planning agent (see AgentSource.runSubmission). */
  runSubmission: SubmissionRunner;
  prdText: string;
  requirements: RequirementsDocument;
}

export const ARCHITECTURE_SYSTEM_PROMPT = [
  'You are the architect of Loki Mode, in the Architecture phase.',
  'From the PRD and the validated requirements, decide how the product is built and plan the work.',
  `Submit everything by calling ${SUBMIT_ARCHITECTURE_TOOL} once with:`,
  '- notes: the architecture in Markdown (components, data, interfaces, risks);',
  '- techStack: one entry per decision (area, choice, reason);',
  '- openapi: an OpenAPI 3 document (YAML) when the product has an HTTP API, else null;',
  "- verifyCommands: the product's own gates (tests, lint, types) that must pass on main, runnable offline;",
  '- deployment: { startCommand, healthPath } to start the product listening on $PORT, or null when it is not a service;',
  '- tasks: the task DAG. Each task: id (lower-case kebab), agentType (from the catalog below), title, description,',
  '  acceptanceCriteria, requirementIds, dependencies (task ids), priority 1-10, complexity',
  '  (trivial, simple, moderate, complex, critical), verifyCommands (run by the harness in the task worktree),',
  '  touches (files or areas), and optionally phase (infrastructure, development, qa, deployment, business).',
  'Every requirement must be covered by a task. Phases run in order; a task may depend only on tasks of the',
  'same or an earlier phase. Tasks that can run at the same time should touch different files.',
  `If ${SUBMIT_ARCHITECTURE_TOOL} answers with errors, fix every listed problem and call it again.`,
].join('\n');

/** Architecture: a planning agent proposes the design and the task DAG; the harness validates it. */
export async function runArchitecture(options: RunArchitectureOptions): Promise<ArchitectureDocument> {
  const catalog = AGENT_CATALOG.filter((type) => type.swarm !== 'review' && type.swarm !== 'orchestration')
    .map((type) => `- ${type.id}: ${type.title}. ${type.purpose}`)
    .join('\n');
  const prompt = [
    `PRD:\n\n${options.prdText}`,
    `Requirements (validated):\n\n${JSON.stringify(options.requirements, null, 2)}`,
    `Agent types you can assign tasks to:\n${catalog}`,
  ].join('\n\n---\n\n');
  return options.runSubmission(
    {
      phase: 'Architecture',
      codePrefix: 'ARCHITECTURE',
      toolName: SUBMIT_ARCHITECTURE_TOOL,
      toolDescription: 'Submit the architecture, the tech stack, the OpenAPI document and the task DAG.',
      inputSchema: architectureDocumentSchema,
      system: ARCHITECTURE_SYSTEM_PROMPT,
      prompt,
      validate: (input) => {
        const validation = validateArchitecture(input, options.requirements.requirements);
        return validation.ok ? { ok: true, value: validation.architecture } : validation;
      },
      describe: (architecture) => `an architecture with ${architecture.tasks.length} tasks`,
      advice: 'Try a stronger planning model, then run again (`loki resume` keeps the requirements).',
      checkedAgainst: { requirements: options.requirements },
    },
    submissionRunOptions(options),
  );
}
