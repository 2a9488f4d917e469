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
  /**
   * Blind reviewers, per task id and reviewer (review-code, review-business, review-security,
   * devils-advocate): one script per review round, in order. A task listed here is reviewed; a
   * fix round after blocking findings is played by the task's own script, continued.
   */
  reviews: z
    .record(
      z.string(),
      z.partialRecord(
        z.enum(['review-code', 'review-business', 'review-security', 'devils-advocate']),
        z.array(scriptedScriptSchema),
      ),
    )
    .default({}),
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

/** The script of one reviewer of a task in one review round (from 1), or an error naming what to add. */
export function reviewScriptOf(
  session: ScriptedSession,
  review: { taskId: string; reviewer: string; round: number },
): ScriptedScript {
  const { taskId, reviewer, round } = review;
  const scripts = (session.reviews[taskId] as Record<string, ScriptedScript[] | undefined> | undefined)?.[
    reviewer
  ];
  const script = scripts?.[round - 1];
  if (script !== undefined) return script;
  throw new LokiError(
    `the scripted session has no script for reviewer ${reviewer} of task "${taskId}" in review round ${round} (it has ${scripts?.length ?? 0}); add reviews.${taskId}.${reviewer}[${round - 1}] to the session`,
    { code: 'SESSION_REVIEW_MISSING', category: 'user', context: { taskId, reviewer, round } },
  );
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
