import { z } from 'zod';
import { LokiError, usageError } from '../../errors/index.ts';
import { readJsonOrYamlFile, scriptedScriptSchema, type ScriptedScript } from './scripted-script.ts';

/**
 * A scripted session drives a whole `loki run` offline: one script per agent. Discovery and
 * Architecture have one agent each; every task has its own, keyed by task id (a task that is tried
 * again replays its script from the start); Growth has one script per iteration.
 */
export const scriptedSessionSchema = z.strictObject({
  description: z.string().optional(),
  /** Waited before each model answer, so the demo and the benchmarks behave like a real model. */
  latencyMilliseconds: z.int().min(0).max(60_000).default(0),
  discovery: scriptedScriptSchema,
  architecture: scriptedScriptSchema,
  tasks: z.record(z.string(), scriptedScriptSchema).default({}),
  growth: z.array(scriptedScriptSchema).default([]),
});

export type ScriptedSession = z.output<typeof scriptedSessionSchema>;
export type ScriptedSessionInput = z.input<typeof scriptedSessionSchema>;

export function parseScriptedSession(value: unknown, origin = 'the session'): ScriptedSession {
  const result = scriptedSessionSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 20)
    .map((issue) => `  - ${issue.path.map(String).join('.') || '(session)'}: ${issue.message}`);
  throw usageError(
    'SESSION_INVALID',
    [`invalid scripted session in ${origin}:`, ...problems].join('\n') +
      '\nA session is { latencyMilliseconds?, discovery: steps, architecture: steps, tasks: { <task-id>: steps }, growth?: [steps] }.',
    { origin },
  );
}

/** Loads a session from a `.json`, `.yaml` or `.yml` file. */
export function loadScriptedSession(path: string): ScriptedSession {
  return parseScriptedSession(readJsonOrYamlFile(path, { what: 'scripted session', code: 'SESSION' }), path);
}

/** The script of one task's agent, or an error naming the task and the session's known ids. */
export function taskScriptOf(session: ScriptedSession, taskId: string): ScriptedScript {
  const script = session.tasks[taskId];
  if (script !== undefined) return script;
  const known = Object.keys(session.tasks);
  throw new LokiError(
    `the scripted session has no script for task "${taskId}" (it has: ${known.length === 0 ? 'none' : known.join(', ')}); add tasks.${taskId} to the session`,
    { code: 'SESSION_TASK_MISSING', category: 'user', context: { taskId } },
  );
}
