import { isAbsolute } from 'node:path';
import { type Clock, systemClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import { bindEventEmitter } from './bind-event-emitter.ts';
import {
  buildClaudeCodeArguments,
  buildClaudeCodeEnvironment,
  type ClaudeCodePermissionMode,
} from './build-claude-code-invocation.ts';
import {
  classifyClaudeCodeApiError,
  classifyClaudeCodeExit,
  classifyClaudeCodeResultFailure,
} from './classify-claude-code-failure.ts';
import { ClaudeCodeStreamMapper } from './claude-code-stream-mapper.ts';
import { CliAttemptFailure } from './cli-attempt-failure.ts';
import type { CliRuntimeOptions } from './cli-runtime-options.ts';
import type { CliRuntimeResult } from './cli-runtime-result.ts';
import { runAgentCliProcess } from './report-surviving-processes.ts';
import { type CliAttemptOutcome, runCliAttempts } from './run-cli-attempts.ts';
import type { LineProcessExit } from './run-line-process.ts';

export type { ProcessInvocation } from './cli-runtime-options.ts';

export interface ClaudeCodeRuntimeOptions extends CliRuntimeOptions {
  /** Appended to Claude Code's own system prompt (`--append-system-prompt`). */
  systemPrompt?: string;
  permissionMode: ClaudeCodePermissionMode;
  /** Tool rules Claude Code may use without asking, e.g. `Write`, `Bash(npm test:*)`. */
  allowedTools: readonly string[];
  disallowedTools?: readonly string[];
  /** Model turns allowed over the whole run, resumed attempts included. */
  maxTurns: number;
  /**
   * Claude Code's own retries per API call (CLAUDE_CODE_MAX_RETRIES). Defaults to 0, so that
   * failures come back to Loki's retry policy, which resumes the session after its own backoff.
   */
  claudeCodeMaxRetries?: number;
  /** Defaults to whether this process runs as root. */
  isRoot?: boolean;
}

/** What a resumed session is told: the conversation so far is already in the session. */
const RESUME_PROMPT =
  'Your previous turn was cut off by an API error. Continue the task from where you stopped.';

/**
 * Runs one task with Claude Code (`claude -p --output-format stream-json`) in the task's worktree
 * and reports it as Loki events: agent.text, agent.tool_called/tool_result, agent.retry/rate_limited,
 * usage.recorded, agent.error, agent.finished (the caller's RARV cycle writes agent.started once
 * for all the rounds of an agent session). Never leaves a process
 * behind: the CLI runs in its own process group, and abort, time-out or exit stop everything it
 * started.
 */
export async function runClaudeCode(options: ClaudeCodeRuntimeOptions): Promise<CliRuntimeResult> {
  validateOptions(options);
  const emit = bindEventEmitter(options.emit, options.runId, options.taskId);
  const clock = options.clock ?? systemClock;
  const executable = options.executablePath ?? 'claude';
  const mapper = new ClaudeCodeStreamMapper({
    emit,
    clock,
    ...(options.priceTable === undefined ? {} : { priceTable: options.priceTable }),
  });
  const environment = buildClaudeCodeEnvironment({
    env: options.env,
    maxRetries: options.claudeCodeMaxRetries ?? 0,
    isRoot: options.isRoot ?? process.getuid?.() === 0,
    ...(options.extraEnv === undefined ? {} : { extraEnv: options.extraEnv }),
  });
  let lastExitCode: number | null = null;

  const runAttempt = async (attempt: number, signal: AbortSignal): Promise<CliAttemptOutcome> => {
    mapper.beginAttempt();
    // A retry continues the same conversation, so the work already done is not repeated.
    // The first attempt may continue an earlier session too (a new RARV round after a failed verification).
    const resumeSessionId = attempt > 1 ? mapper.sessionId : (options.resumeSessionId ?? null);
    const commandArguments = buildClaudeCodeArguments({
      prompt: attempt > 1 ? RESUME_PROMPT : options.prompt,
      resumeSessionId,
      permissionMode: options.permissionMode,
      allowedTools: options.allowedTools,
      maxTurns: Math.max(1, options.maxTurns - mapper.steps),
      ...(options.disallowedTools === undefined ? {} : { disallowedTools: options.disallowedTools }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.systemPrompt === undefined ? {} : { systemPrompt: options.systemPrompt }),
    });
    const exit = await runAgentCliProcess({
      runtime: options,
      executable,
      commandArguments,
      env: environment,
      onLine: (line) => mapper.handleLine(line),
      signal,
      emit,
      codePrefix: 'CLAUDE_CODE',
    });
    lastExitCode = exit.exitCode;
    return settleAttempt(mapper, exit, executable, clock);
  };

  const ending = await runCliAttempts({
    provider: 'claude-code',
    displayName: 'Claude Code',
    emit: options.emit,
    runId: options.runId,
    taskId: options.taskId,
    timeoutMilliseconds: options.timeoutMilliseconds,
    runAttempt,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  emit('agent.finished', { reason: ending.reason, steps: mapper.steps, summary: ending.summary });
  return {
    reason: ending.reason,
    steps: mapper.steps,
    summary: ending.summary,
    usage: { ...mapper.usage },
    exitCode: lastExitCode,
    sessionId: mapper.sessionId,
    failure: ending.failure,
  };
}

/** Decides how an attempt ended from its `result` line, or from the process when there is none. */
function settleAttempt(
  mapper: ClaudeCodeStreamMapper,
  exit: LineProcessExit,
  executable: string,
  clock: Clock,
): CliAttemptOutcome {
  const result = mapper.attemptResult;
  const apiError = mapper.attemptApiError;
  if (result === null) {
    throw new CliAttemptFailure(
      apiError === null
        ? classifyClaudeCodeExit(exit, executable)
        : classifyClaudeCodeApiError(apiError, clock),
    );
  }
  if (result.subtype === 'error_max_turns') return { reason: 'step_limit', summary: null };
  if (!result.isError) return { reason: 'task_complete', summary: result.resultText };
  if (apiError !== null) throw new CliAttemptFailure(classifyClaudeCodeApiError(apiError, clock));
  if (result.apiErrorStatus !== null) {
    const fromResult = {
      status: result.apiErrorStatus,
      type: result.apiErrorType,
      error: null,
      message: result.resultText ?? '',
    };
    throw new CliAttemptFailure(classifyClaudeCodeApiError(fromResult, clock));
  }
  throw new CliAttemptFailure(classifyClaudeCodeResultFailure(result));
}

function validateOptions(options: ClaudeCodeRuntimeOptions): void {
  const problems = [
    isAbsolute(options.worktree) ? null : `worktree must be an absolute path, got ${options.worktree}`,
    Number.isInteger(options.maxTurns) && options.maxTurns >= 1
      ? null
      : 'maxTurns must be a positive integer',
    options.timeoutMilliseconds > 0 ? null : 'timeoutMilliseconds must be positive',
    options.prompt.trim() === '' ? 'prompt must not be empty' : null,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) {
    throw new LokiError(`invalid Claude Code run: ${problems.join('; ')}`, {
      code: 'CLAUDE_CODE_INVALID_OPTIONS',
      category: 'internal',
      context: { worktree: options.worktree },
    });
  }
}
