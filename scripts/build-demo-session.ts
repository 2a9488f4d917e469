/**
 * Builds the scripted session that `loki demo` plays: examples/todo-api/session.json, from the
 * hand-written plan (plan.yaml) and the finished product (product/). Every `write` step of a task
 * becomes write_file calls carrying the product file's complete content, so the agents build exactly
 * the product that is checked in, and the session can never drift from it unnoticed.
 *
 *   node scripts/build-demo-session.ts           writes session.json
 *   node scripts/build-demo-session.ts --check   exits 1 when session.json is out of date
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { findAgentType } from '../src/agents/index.ts';
import {
  SUBMIT_ARCHITECTURE_TOOL,
  SUBMIT_REQUIREMENTS_TOOL,
  validateArchitecture,
  validateRequirements,
} from '../src/planning/index.ts';
import { parseScriptedSession, type ScriptedSessionInput } from '../src/providers/index.ts';
import {
  REVIEWER_NAMES,
  reviewSubmissionSchema,
  SUBMIT_REVIEW_TOOL,
  validateReviewSubmission,
} from '../src/review/index.ts';

export const DEMO_DIRECTORY = join(import.meta.dirname, '..', 'examples', 'todo-api');
export const PLAN_FILE = join(DEMO_DIRECTORY, 'plan.yaml');
export const PRODUCT_DIRECTORY = join(DEMO_DIRECTORY, 'product');
export const SESSION_FILE = join(DEMO_DIRECTORY, 'session.json');

/**
 * One model call of a task's agent: some files written, one command run, or the completion. One
 * action per step, so a command never races the writes it is meant to check.
 */
const planStepSchema = z
  .strictObject({
    text: z.string().min(1).optional(),
    write: z.array(z.string().min(1)).min(1).optional(),
    run: z.string().min(1).optional(),
    complete: z.string().min(1).optional(),
  })
  .refine(
    (step) => [step.write, step.run, step.complete].filter((action) => action !== undefined).length === 1,
    {
      error: 'a step needs exactly one of write, run or complete',
    },
  );

// Loose: the requirements, the architecture and a task's planned fields pass through as written and
// are checked below by the planning phases' own validators, so the two can never disagree.
const planTaskSchema = z.looseObject({
  id: z.string(),
  agentType: z.string(),
  /**
   * The blind reviewers of the task's change: per reviewer, what it hands in at each review round.
   * A task with a review is reviewed in the demo (the scripted provider reviews the tasks its
   * session scripts reviewers for); the others merge after verification alone.
   */
  review: z.partialRecord(z.enum(REVIEWER_NAMES), z.array(reviewSubmissionSchema).min(1)).optional(),
  steps: z
    .array(planStepSchema)
    .min(2)
    .refine((steps) => steps.findIndex((step) => step.complete !== undefined) === steps.length - 1, {
      error: 'the last step, and only the last, must be complete',
    }),
});

const planSchema = z.strictObject({
  description: z.string().min(1),
  latencyMilliseconds: z.int().min(0),
  discovery: z.looseObject({ text: z.string().min(1) }),
  architecture: z.looseObject({ text: z.string().min(1), openapiFile: z.string().min(1) }),
  tasks: z.array(planTaskSchema).min(1),
});

type Plan = z.output<typeof planSchema>;
type PlanTask = Plan['tasks'][number];
type SessionSteps = Array<{
  text?: string;
  toolCalls: Array<{ toolName: string; input: Record<string, unknown> }>;
}>;

/** The session as the orchestrator will play it; throws, listing the problems, when it is invalid. */
export function buildDemoSession(): ScriptedSessionInput {
  const plan = readPlan();
  const productFiles = listProductFiles();
  const readProductFile = (path: string): string => {
    if (!productFiles.includes(path)) {
      throw new Error(`${PLAN_FILE}: "${path}" is not a file of ${PRODUCT_DIRECTORY}`);
    }
    return readFileSync(join(PRODUCT_DIRECTORY, path), 'utf8');
  };

  const { text: discoveryText, ...requirementsDocument } = plan.discovery;
  const requirements = validateRequirements(requirementsDocument);
  if (!requirements.ok) throw invalid('the discovery requirements', requirements.errors);

  const { text: architectureText, openapiFile, ...architectureFields } = plan.architecture;
  const architectureDocument = {
    ...architectureFields,
    openapi: readProductFile(openapiFile),
    tasks: plan.tasks.map(({ steps, review: _review, ...task }) => ({
      ...task,
      touches: writtenPaths(steps),
    })),
  };
  const architecture = validateArchitecture(architectureDocument, requirements.requirements.requirements);
  if (!architecture.ok) throw invalid('the architecture', architecture.errors);

  checkEveryFileWrittenOnce(plan.tasks, productFiles);
  const session: ScriptedSessionInput = {
    description: plan.description,
    latencyMilliseconds: plan.latencyMilliseconds,
    discovery: [
      {
        text: discoveryText,
        toolCalls: [{ toolName: SUBMIT_REQUIREMENTS_TOOL, input: requirementsDocument }],
      },
    ],
    architecture: [
      {
        text: architectureText,
        toolCalls: [{ toolName: SUBMIT_ARCHITECTURE_TOOL, input: architectureDocument }],
      },
    ],
    tasks: Object.fromEntries(
      plan.tasks.map((task) => [task.id, taskScript(task, readProductFile)] as const),
    ),
    reviews: Object.fromEntries(
      plan.tasks.flatMap((task) =>
        task.review === undefined ? [] : [[task.id, reviewScripts(task, readProductFile)] as const],
      ),
    ),
  };
  parseScriptedSession(session, SESSION_FILE);
  return session;
}

/** session.json's text: the session as JSON, formatted as the repository's Prettier wants it. */
export async function formatDemoSession(session: ScriptedSessionInput): Promise<string> {
  const options = (await resolveConfig(SESSION_FILE)) ?? {};
  return format(JSON.stringify(session, null, 2), { ...options, filepath: SESSION_FILE });
}

function taskScript(task: PlanTask, readProductFile: (path: string) => string): SessionSteps {
  const allowedTools = findAgentType(task.agentType).tools;
  const steps: SessionSteps = task.steps.map((step) => {
    const toolCalls =
      step.write !== undefined
        ? step.write.map((path) => ({
            toolName: 'write_file',
            input: { path, content: readProductFile(path) },
          }))
        : step.run !== undefined
          ? [{ toolName: 'run_command', input: { command: step.run } }]
          : [
              {
                toolName: 'task_complete',
                input: {
                  summary: step.complete,
                  files_changed: writtenPaths(task.steps),
                  tests_run: task.steps.flatMap((other) => (other.run === undefined ? [] : [other.run])),
                },
              },
            ];
    return step.text === undefined ? { toolCalls } : { text: step.text, toolCalls };
  });
  for (const { toolName } of steps.flatMap((step) => step.toolCalls)) {
    if (!allowedTools.includes(toolName)) {
      throw new Error(`task "${task.id}" calls ${toolName}, which ${task.agentType} may not use`);
    }
  }
  return steps;
}

/**
 * Each reviewer's submit_review call per round. A finding must point at a line of a file the task
 * writes, as the harness demands of a real reviewer, so an edit of product/ that moves the line
 * fails the build of the session instead of a demo run.
 */
function reviewScripts(
  task: PlanTask,
  readProductFile: (path: string) => string,
): Record<string, SessionSteps[]> {
  const changedFiles = new Map(
    writtenPaths(task.steps).map((path) => [path, countLines(readProductFile(path))] as const),
  );
  const scripts: Record<string, SessionSteps[]> = {};
  for (const [reviewer, rounds] of Object.entries(task.review ?? {})) {
    scripts[reviewer] = rounds.map((submission, index) => {
      const checked = validateReviewSubmission(submission, changedFiles);
      if (!checked.ok)
        throw invalid(`the review of ${task.id} by ${reviewer}, round ${index + 1}`, checked.errors);
      return [{ toolCalls: [{ toolName: SUBMIT_REVIEW_TOOL, input: submission }] }];
    });
  }
  return scripts;
}

/** Lines as the harness counts them for reviewers (a last newline ends a line, not starts one). */
function countLines(text: string): number {
  return text === '' ? 0 : text.replace(/\n$/, '').split('\n').length;
}

function writtenPaths(steps: PlanTask['steps']): string[] {
  return steps.flatMap((step) => step.write ?? []);
}

/**
 * Every file of product/ is written by exactly one task: a file no task writes would be missing from
 * the built product, and a file two tasks write would need their order to be right to survive.
 */
function checkEveryFileWrittenOnce(tasks: readonly PlanTask[], productFiles: readonly string[]): void {
  const writerByPath = new Map<string, string>();
  const problems: string[] = [];
  for (const task of tasks) {
    for (const path of writtenPaths(task.steps)) {
      const writer = writerByPath.get(path);
      if (writer !== undefined) problems.push(`"${path}" is written by both ${writer} and ${task.id}`);
      writerByPath.set(path, task.id);
    }
  }
  for (const path of productFiles) {
    if (!writerByPath.has(path)) problems.push(`"${path}" is written by no task`);
  }
  if (problems.length > 0) throw invalid('the product files', problems);
}

function readPlan(): Plan {
  const result = planSchema.safeParse(parseYaml(readFileSync(PLAN_FILE, 'utf8')));
  if (result.success) return result.data;
  throw invalid(
    PLAN_FILE,
    result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(plan)'}: ${issue.message}`),
  );
}

/** Paths relative to product/, with forward slashes, sorted. */
function listProductFiles(): string[] {
  return readdirSync(PRODUCT_DIRECTORY, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(PRODUCT_DIRECTORY, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

function invalid(what: string, problems: readonly string[]): Error {
  return new Error(
    [`invalid demo session: ${what}:`, ...problems.map((problem) => `  - ${problem}`)].join('\n'),
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const isCheck = argv.includes('--check');
  const text = await formatDemoSession(buildDemoSession());
  const shownPath = relative(process.cwd(), SESSION_FILE);
  if (!isCheck) {
    writeFileSync(SESSION_FILE, text);
    console.log(`wrote ${shownPath}`);
    return 0;
  }
  let current: string | undefined;
  try {
    current = readFileSync(SESSION_FILE, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (current === text) {
    console.log(`${shownPath} is up to date`);
    return 0;
  }
  console.error(
    `${shownPath} is out of date with plan.yaml and product/; run: node scripts/build-demo-session.ts`,
  );
  return 1;
}

// Run as a program, not when imported (`import.meta.main` is missing on some Node 22 releases).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (exitCode) => {
      process.exitCode = exitCode;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
