import { runCodex } from '../providers/index.ts';
import { CliSubmission } from './cli-submission.ts';
import type { SubmissionRunOptions, SubmissionSpec } from './submission-spec.ts';

/** How Codex is run for a planning phase; the same settings as its task agents. */
export interface CodexSubmissionSettings {
  /** An existing absolute directory: the session's cwd, read-only to the agent. */
  workingDirectory: string;
  env: NodeJS.ProcessEnv;
  model?: string;
  timeoutMilliseconds: number;
  /** `loki mcp-tools` offering only the phase's submission tool, checked against the phase's context. */
  lokiTools: { command: string; arguments: string[] };
}

/**
 * A planning agent on Codex: a thread whose only Loki tool is the phase's submission tool, served
 * by `loki mcp-tools` as MCP server `loki`, which answers an invalid call with its errors. The
 * server's answer never decides: every call is read from Codex's event stream and judged again here
 * by the same judge as the API path, which counts the repair rounds and stops the thread when they
 * run out. The sandbox is read-only: a planner hands in a document and changes no file.
 */
export async function runCodexSubmission<T>(
  spec: SubmissionSpec<T>,
  options: SubmissionRunOptions,
  settings: CodexSubmissionSettings,
): Promise<T> {
  const submission = new CliSubmission(spec, options);
  const onToolCall = (tool: string, input: unknown): void => {
    // The MCP server offers no other tool; a call of another name never reached a Loki tool.
    if (tool !== spec.toolName) return;
    submission.handIn(input);
  };
  const result = await runCodex({
    prompt: spec.prompt,
    systemPrompt: spec.system,
    worktree: settings.workingDirectory,
    env: settings.env,
    ...(settings.model === undefined ? {} : { model: settings.model }),
    emit: options.emit,
    runId: options.runId,
    taskId: null,
    signal: submission.signal,
    timeoutMilliseconds: settings.timeoutMilliseconds,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    sandboxMode: 'read-only',
    // The planning directory is Loki's own, not a repository the agent works on.
    skipGitRepoCheck: true,
    lokiTools: { ...settings.lokiTools, acceptTaskComplete: () => null, onToolCall },
  });
  return submission.finish(result);
}
