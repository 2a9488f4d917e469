import { type ProcessInvocation, runClaudeCode } from '../providers/index.ts';
import { CliSubmission } from './cli-submission.ts';
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
  const submission = new CliSubmission(spec, options);
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
    signal: submission.signal,
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
        handle: (input) => Promise.resolve(submission.handIn(input)),
      },
    ],
    maxTurns: options.maxSteps ?? DEFAULT_MAX_TURNS,
  });
  return submission.finish(result);
}
