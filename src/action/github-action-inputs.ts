import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors/index.ts';

/**
 * The inputs of `action.yml`, as its composite step hands them over (`INPUT_*` variables) and the
 * paths GitHub's runner sets. Validated here: a workflow file is user input like any other.
 */
const inputsSchema = z.object({
  INPUT_COMMAND: z.enum(['run', 'verify'], { error: 'expected command: run or verify' }),
  INPUT_PRD: z.string().default(''),
  INPUT_WORKING_DIRECTORY: z.string().default('.'),
  INPUT_PROVIDER: z
    .string()
    .regex(/^[a-z-]*$/, { error: 'expected a provider name such as anthropic' })
    .default(''),
  INPUT_BUDGET: z
    .string()
    .regex(/^(\d+(\.\d+)?)?$/, { error: 'expected a number of US dollars such as 5' })
    .default(''),
  INPUT_GATES: z
    .string()
    .regex(/^[a-z\s-]*$/, { error: 'expected gate names separated by spaces' })
    .default(''),
  GITHUB_WORKSPACE: z.string({ error: 'GITHUB_WORKSPACE is not set: run this inside a GitHub Actions job' }),
  GITHUB_STEP_SUMMARY: z.string({
    error: 'GITHUB_STEP_SUMMARY is not set: run this inside a GitHub Actions job',
  }),
  GITHUB_OUTPUT: z.string({ error: 'GITHUB_OUTPUT is not set: run this inside a GitHub Actions job' }),
  RUNNER_TEMP: z.string({ error: 'RUNNER_TEMP is not set: run this inside a GitHub Actions job' }),
});

export interface GitHubActionInputs {
  command: 'run' | 'verify';
  /** The PRD, relative to the working directory (`run` only). */
  prd: string | null;
  /** Absolute; inside GITHUB_WORKSPACE. */
  workingDirectory: string;
  provider: string | null;
  budget: string | null;
  gates: string[];
  stepSummaryPath: string;
  outputPath: string;
  /** Where the evidence is gathered for the upload step. */
  artifactDirectory: string;
}

export function readGitHubActionInputs(
  env: Readonly<Record<string, string | undefined>>,
): GitHubActionInputs {
  const parsed = inputsSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'input');
    throw usageError(
      'ACTION_INPUT_INVALID',
      `invalid action input ${describeName(name)}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const values = parsed.data;
  const workspace = resolve(values.GITHUB_WORKSPACE);
  const workingDirectory = resolve(workspace, values.INPUT_WORKING_DIRECTORY);
  const inside = relative(workspace, workingDirectory);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw usageError(
      'ACTION_INPUT_INVALID',
      `invalid action input working-directory: it must be inside the repository (${values.INPUT_WORKING_DIRECTORY})`,
    );
  }
  if (values.INPUT_COMMAND === 'run' && values.INPUT_PRD === '') {
    throw usageError(
      'ACTION_INPUT_INVALID',
      'invalid action input prd: command run needs the path of the PRD, e.g. prd: docs/prd.md',
    );
  }
  return {
    command: values.INPUT_COMMAND,
    prd: values.INPUT_PRD === '' ? null : values.INPUT_PRD,
    workingDirectory,
    provider: values.INPUT_PROVIDER === '' ? null : values.INPUT_PROVIDER,
    budget: values.INPUT_BUDGET === '' ? null : values.INPUT_BUDGET,
    gates: values.INPUT_GATES.split(/\s+/).filter((gate) => gate !== ''),
    stepSummaryPath: values.GITHUB_STEP_SUMMARY,
    outputPath: values.GITHUB_OUTPUT,
    artifactDirectory: resolve(values.RUNNER_TEMP, 'loki-evidence'),
  };
}

/** GitHub sets an input left out of the workflow to an empty string: the default applies. */
function withoutEmpty(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') result[name] = value;
  return result;
}

function describeName(name: string): string {
  return name.startsWith('INPUT_') ? name.slice('INPUT_'.length).toLowerCase().replace(/_/g, '-') : name;
}
