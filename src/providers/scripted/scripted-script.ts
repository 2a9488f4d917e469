import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LokiError, usageError } from '../../errors/index.ts';

const tokenCount = z.int().min(0);

const scriptedToolCallSchema = z.strictObject({
  toolName: z.string().min(1),
  /** The tool's input, as the model would have written it. */
  input: z.record(z.string(), z.unknown()).default({}),
  /** Defaults to `scripted-call-<step>-<n>`; set it when a test wants to refer to the call. */
  toolCallId: z.string().min(1).optional(),
});

const scriptedUsageSchema = z.strictObject({
  inputTokens: tokenCount.default(0),
  outputTokens: tokenCount.default(0),
  cacheReadTokens: tokenCount.default(0),
  cacheWriteTokens: tokenCount.default(0),
});

/** Makes the call fail like a provider would (e.g. 429 with retry-after), to exercise retries. */
const scriptedFailureSchema = z.strictObject({
  statusCode: z.int().min(400).max(599),
  message: z.string().optional(),
  headers: z.record(z.string(), z.string()).default({}),
});

const scriptedStepSchema = z
  .strictObject({
    text: z.string().optional(),
    toolCalls: z.array(scriptedToolCallSchema).default([]),
    /** When left out, tokens are estimated from the text lengths (about four characters a token). */
    usage: scriptedUsageSchema.optional(),
    failure: scriptedFailureSchema.optional(),
  })
  .refine((step) => step.text !== undefined || step.toolCalls.length > 0 || step.failure !== undefined, {
    error: 'a step needs text, toolCalls or a failure',
  })
  .refine((step) => step.failure === undefined || (step.text === undefined && step.toolCalls.length === 0), {
    error: 'a failing step cannot also answer: move text and toolCalls to the next step',
  });

const scriptObjectSchema = z.strictObject({ steps: z.array(scriptedStepSchema).min(1) });

/**
 * A script is a list of steps, written either as a bare list or as `{ steps: [...] }`. The bare
 * list is wrapped before validation (not a union) so that errors point at the broken field.
 */
export const scriptedScriptSchema = z.preprocess(
  (value) => (Array.isArray(value) ? { steps: value } : value),
  scriptObjectSchema,
);

export type ScriptedScript = z.output<typeof scriptObjectSchema>;
export type ScriptedScriptInput =
  z.input<typeof scriptObjectSchema> | z.input<typeof scriptObjectSchema>['steps'];
export type ScriptedStep = ScriptedScript['steps'][number];

/** Validates a script from any source; `origin` names it in the error (a file path, "inline"). */
export function parseScriptedScript(value: unknown, origin = 'the script'): ScriptedScript {
  const result = scriptedScriptSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${formatPath(issue.path)}: ${issue.message}`);
  throw usageError(
    'SCRIPT_INVALID',
    [`invalid scripted-model script in ${origin}:`, ...problems].join('\n') +
      '\nEach step is { text?, toolCalls?: [{ toolName, input }], usage?, failure? }.',
    { origin },
  );
}

/** Loads a script from a `.json`, `.yaml` or `.yml` file. */
export function loadScriptedScript(path: string): ScriptedScript {
  return parseScriptedScript(
    readJsonOrYamlFile(path, { what: 'scripted-model script', code: 'SCRIPT' }),
    path,
  );
}

/**
 * Reads a `.json` file as JSON and anything else as YAML; errors name the file, what it is and the
 * problem (`<code>_UNREADABLE`, `<code>_INVALID`).
 */
export function readJsonOrYamlFile(path: string, label: { what: string; code: string }): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LokiError(`cannot read ${label.what} ${path}: ${describe(error)}. Check the path.`, {
      code: `${label.code}_UNREADABLE`,
      category: 'user',
      context: { path },
      cause: error,
    });
  }
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new LokiError(`${label.what} ${path} is not valid JSON or YAML: ${describe(error)}`, {
      code: `${label.code}_INVALID`,
      category: 'user',
      context: { path },
      cause: error,
    });
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(script)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}
