import { LokiError } from '../errors/index.ts';
import { type ProcessInvocation, runClaudeCode } from '../providers/index.ts';
import { SubmissionJudge } from './submission-judge.ts';
import type { SubmissionRunOptions, SubmissionSpec } from './submission-spec.ts';

/** How Claude Code is run for a planning phase; the same settings as its task agents. */
export interface ClaudeCodeSubmissionSettings {
  /** An existing directory: the session's cwd. It has no file tools, so nothing there is touched. */
  workingDirectory: string;
  env: NodeJS.ProcessEnv;
  executablePath?: string;
  model?: string;
  wrapInvocation?: (invocation: ProcessInvocation) => ProcessInvocation;
  timeoutMilliseconds: number;
}

const DEFAULT_MAX_TURNS = 8;

/**
 * A planning agent on Claude Code: a session whose only tool is Loki's submission tool, served as
 * `mcp__loki__<tool>`. The same judge as the API path validates each call and answers an invalid
 * one with its errors; when the repair rounds run out the session is stopped.
 */
export async function runClaudeCodeSubmission<T>(
  spec: SubmissionSpec<T>,
  options: SubmissionRunOptions,
  settings: ClaudeCodeSubmissionSettings,
): Promise<T> {
  const judge = new SubmissionJudge(spec, options.maxRepairRounds);
  const stopController = new AbortController();
  const signal =
    options.signal === undefined
      ? stopController.signal
      : AbortSignal.any([options.signal, stopController.signal]);
  const result = await runClaudeCode({
    prompt: spec.prompt,
    systemPrompt: spec.system,
    worktree: settings.workingDirectory,
    env: settings.env,
    ...(settings.executablePath === undefined ? {} : { executablePath: settings.executablePath }),
    ...(settings.model === undefined ? {} : { model: settings.model }),
    ...(settings.wrapInvocation === undefined ? {} : { wrapInvocation: settings.wrapInvocation }),
    emit: options.emit,
    runId: options.runId,
    taskId: null,
    signal,
    timeoutMilliseconds: settings.timeoutMilliseconds,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    // No built-in tool at all: a planner reads what the prompt gives it and hands in one document.
    permissionMode: 'dontAsk',
    tools: [],
    allowedTools: [],
    lokiTools: [
      {
        name: spec.toolName,
        description: spec.toolDescription,
        inputSchema: spec.inputSchema,
        handle: (input) => {
          const verdict = judge.judge(input);
          if (judge.isExhausted) stopController.abort(new Error(`${spec.phase} repair rounds exhausted`));
          return Promise.resolve(verdict);
        },
      },
    ],
    maxTurns: options.maxSteps ?? DEFAULT_MAX_TURNS,
  });
  const wasStopped = options.signal?.aborted === true;
  if (result.failure !== null && !judge.hasAccepted && !judge.isExhausted && !wasStopped) {
    // The session failed (auth, quota, a crash) before the planner handed in anything valid.
    throw new LokiError(`${spec.phase} failed: ${result.failure.message}`, {
      code: result.failure.code,
      category: 'provider',
      context: { phase: spec.phase, failureCategory: result.failure.category },
    });
  }
  return judge.outcome({ reason: result.reason, steps: result.steps, wasStopped });
}
