import { isAbsolute } from 'node:path';
import {
  type HookCallback,
  type Options as ClaudeAgentOptions,
  type PermissionMode,
  query,
} from '@anthropic-ai/claude-agent-sdk';
import { type Clock, systemClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import { bindEventEmitter, type EmitRuntimeEvent } from './bind-event-emitter.ts';
import { buildClaudeCodeEnvironment } from './build-claude-code-invocation.ts';
import {
  classifyClaudeCodeApiError,
  classifyClaudeCodeExit,
  classifyClaudeCodeResultFailure,
} from './classify-claude-code-failure.ts';
import {
  createLokiMcpServer,
  LOKI_MCP_SERVER,
  type LokiMcpTool,
  lokiMcpToolName,
} from './claude-code-loki-server.ts';
import { ClaudeCodeMessageMapper, numberField } from './claude-code-message-mapper.ts';
import { ClaudeCodeProcess } from './claude-code-process.ts';
import { CliAttemptFailure } from './cli-attempt-failure.ts';
import { CLI_TURN_MAX_OUTPUT_TOKENS, CliTurnMeter } from './cli-turn-meter.ts';
import type { CliRuntimeOptions } from './cli-runtime-options.ts';
import type { CliRuntimeResult } from './cli-runtime-result.ts';
import { reportSurvivingProcesses } from './report-surviving-processes.ts';
import { type CliAttemptOutcome, runCliAttempts } from './run-cli-attempts.ts';

export type { ProcessInvocation } from './cli-runtime-options.ts';
export type ClaudeCodePermissionMode = PermissionMode;

/** A tool call Loki refuses before Claude Code runs it (e.g. a write outside the worktree). */
export interface ClaudeCodeToolRefusal {
  reason: string;
  detail: string;
}

export interface ClaudeCodeRuntimeOptions extends CliRuntimeOptions {
  /** Appended to Claude Code's own system prompt. */
  systemPrompt?: string;
  permissionMode: ClaudeCodePermissionMode;
  /** Claude Code's built-in tools the session has at all; Claude Code's default set when absent. */
  tools?: readonly string[];
  /** Tool rules Claude Code may use without asking, e.g. `Write`, `Bash(npm test:*)`. */
  allowedTools: readonly string[];
  disallowedTools?: readonly string[];
  /** Loki's own tools, served as the in-process MCP server `loki` and allowed without asking. */
  lokiTools?: readonly LokiMcpTool[];
  /** Asked before every tool call (a PreToolUse hook); a refusal is denied and recorded as sandbox.refused. */
  checkToolUse?: (call: { toolName: string; input: unknown }) => Promise<ClaudeCodeToolRefusal | null>;
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

/**
 * Claude Code's own system prompt and tool definitions, in tokens, on top of Loki's prompt: sized
 * generously, since it only sizes the first turn's reservation.
 */
const CLAUDE_CODE_BASE_PROMPT_TOKENS = 30_000;

/**
 * With a budget, a turn's output is bounded (CLAUDE_CODE_MAX_OUTPUT_TOKENS) to the same limit the
 * API path sends, so that the reservation of one turn really covers its output.
 */
const BOUNDED_OUTPUT_ENVIRONMENT = { CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(CLI_TURN_MAX_OUTPUT_TOKENS) };

/** What a resumed session is told: the conversation so far is already in the session. */
const RESUME_PROMPT =
  'Your previous turn was cut off by an API error. Continue the task from where you stopped.';

/**
 * Runs one task with Claude Code through the Claude Agent SDK in the task's worktree and reports it
 * as Loki events: agent.text, agent.tool_called/tool_result, agent.retry/rate_limited,
 * sandbox.refused, usage.recorded, agent.error, agent.finished (the caller's RARV cycle writes
 * agent.started once for all the rounds of an agent session). Never leaves a process behind: Claude
 * Code runs in its own process group, and abort, time-out or exit stop everything it started.
 */
export async function runClaudeCode(options: ClaudeCodeRuntimeOptions): Promise<CliRuntimeResult> {
  validateOptions(options);
  const emit = bindEventEmitter(options.emit, options.runId, options.taskId);
  const clock = options.clock ?? systemClock;
  const executable = options.executablePath ?? 'claude';
  const mapper = new ClaudeCodeMessageMapper({ emit, clock });
  const meter = new CliTurnMeter({
    provider: 'claude-code',
    displayName: 'Claude Code',
    emit,
    usage: mapper.usage,
    budget: options.budget,
    priceTable: options.priceTable,
    modelId: options.model ?? 'claude-code default',
    basePromptTokens: CLAUDE_CODE_BASE_PROMPT_TOKENS,
  });
  // A refused reservation ends the session at once, like an abort; the budget error is thrown after.
  const budgetStop = new AbortController();
  meter.onStop = () => budgetStop.abort(new Error('the budget cap was reached'));
  let lastExitCode: number | null = null;

  const runAttempt = async (attempt: number, signal: AbortSignal): Promise<CliAttemptOutcome> => {
    mapper.beginAttempt();
    const prompt = attempt > 1 ? RESUME_PROMPT : options.prompt;
    await meter.beginSession(prompt.length + (options.systemPrompt?.length ?? 0));
    if (signal.aborted) throw signal.reason;
    const standing = await options.budget?.standing();
    const process = new ClaudeCodeProcess({
      wrapInvocation: options.wrapInvocation,
      timing: options.processStopTiming,
    });
    // A retry continues the same conversation, so the work already done is not repeated. The first
    // attempt may continue an earlier session too (a new RARV round after a failed verification).
    const resumeSessionId = attempt > 1 ? mapper.sessionId : (options.resumeSessionId ?? null);
    const failure = await consumeSession(
      {
        prompt,
        options: sessionOptions(options, {
          executable,
          resumeSessionId,
          maxTurns: Math.max(1, options.maxTurns - mapper.steps),
          spawn: process.spawn,
          emit,
          signal,
          remainingBudgetUsd: standing?.remainingUsd,
        }),
      },
      mapper,
      meter,
    );
    const survivors = await process.finish(signal.aborted);
    reportSurvivingProcesses({ survivorPids: survivors }, emit, 'CLAUDE_CODE');
    // A turn cut off mid-stream was billed for what it streamed.
    for (const turn of mapper.takeOpenTurns()) await meter.turnEnded(turn);
    await meter.endSession();
    // Claude Code's own cap (--max-budget-usd, the second guard) stopped it: a budget stop as well.
    if (mapper.attemptResult?.subtype === 'error_max_budget_usd') meter.stopAtCliLimit();
    if (signal.aborted) throw signal.reason;
    lastExitCode = process.exit.exitCode;
    return settleAttempt(mapper, failure, process, executable, clock);
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
    signal:
      options.signal === undefined ? budgetStop.signal : AbortSignal.any([options.signal, budgetStop.signal]),
  });
  const budgetError = await meter.stopErrorWithSpend();
  if (budgetError !== null) {
    emit('agent.finished', { reason: 'aborted', steps: mapper.steps, summary: budgetError.message });
    throw budgetError;
  }
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

/** Reads the session to its end; an error the SDK throws (the process failed) is returned, not thrown. */
async function consumeSession(
  session: { prompt: string; options: ClaudeAgentOptions },
  mapper: ClaudeCodeMessageMapper,
  meter: CliTurnMeter,
): Promise<unknown> {
  try {
    for await (const message of query(session)) {
      const turn = mapper.handle(message);
      // Charged before the next message is read: a refused reservation stops the session here.
      if (turn !== null) await meter.turnEnded(turn);
    }
    return null;
  } catch (error) {
    // Classified from what the process and the messages showed (settleAttempt); kept for the rest.
    return error ?? new Error('Claude Code session failed');
  }
}

function sessionOptions(
  options: ClaudeCodeRuntimeOptions,
  attempt: {
    executable: string;
    resumeSessionId: string | null;
    maxTurns: number;
    spawn: ClaudeAgentOptions['spawnClaudeCodeProcess'];
    emit: EmitRuntimeEvent;
    signal: AbortSignal;
    /** What is left of the run's budget: Claude Code's own cap, a second guard behind Loki's. */
    remainingBudgetUsd: number | undefined;
  },
): ClaudeAgentOptions {
  const abortController = new AbortController();
  if (attempt.signal.aborted) abortController.abort(attempt.signal.reason);
  attempt.signal.addEventListener('abort', () => abortController.abort(attempt.signal.reason), {
    once: true,
  });
  const lokiTools = options.lokiTools ?? [];
  return {
    cwd: options.worktree,
    pathToClaudeCodeExecutable: attempt.executable,
    spawnClaudeCodeProcess: attempt.spawn,
    abortController,
    env: buildClaudeCodeEnvironment({
      env: options.env,
      maxRetries: options.claudeCodeMaxRetries ?? 0,
      isRoot: options.isRoot ?? process.getuid?.() === 0,
      extraEnv: {
        ...(options.budget === undefined ? {} : BOUNDED_OUTPUT_ENVIRONMENT),
        ...options.extraEnv,
      },
    }),
    // The raw API stream: each turn's usage, charged as the turn ends.
    includePartialMessages: true,
    ...(attempt.remainingBudgetUsd === undefined ? {} : { maxBudgetUsd: attempt.remainingBudgetUsd }),
    permissionMode: options.permissionMode,
    ...(options.permissionMode === 'bypassPermissions' ? { allowDangerouslySkipPermissions: true } : {}),
    ...(options.tools === undefined ? {} : { tools: [...options.tools] }),
    allowedTools: [...options.allowedTools, ...lokiTools.map((tool) => lokiMcpToolName(tool.name))],
    ...(options.disallowedTools === undefined ? {} : { disallowedTools: [...options.disallowedTools] }),
    ...(lokiTools.length === 0 ? {} : { mcpServers: { [LOKI_MCP_SERVER]: createLokiMcpServer(lokiTools) } }),
    // Settings files in the worktree are written by agents: they must not add hooks or permissions.
    settingSources: ['user'],
    maxTurns: attempt.maxTurns,
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.systemPrompt === undefined || options.systemPrompt === ''
      ? {}
      : { systemPrompt: { type: 'preset', preset: 'claude_code', append: options.systemPrompt } }),
    ...(attempt.resumeSessionId === null ? {} : { resume: attempt.resumeSessionId }),
    ...(options.checkToolUse === undefined
      ? {}
      : { hooks: { PreToolUse: [{ hooks: [toolUseGuard(options.checkToolUse, attempt.emit)] }] } }),
  };
}

/** Denies a tool call Loki refuses, and records the refusal as the API loop does. */
function toolUseGuard(
  check: NonNullable<ClaudeCodeRuntimeOptions['checkToolUse']>,
  emit: EmitRuntimeEvent,
): HookCallback {
  return async (input) => {
    if (input.hook_event_name !== 'PreToolUse') return {};
    const refusal = await check({ toolName: input.tool_name, input: input.tool_input });
    if (refusal === null) return {};
    emit('sandbox.refused', { toolName: input.tool_name, reason: refusal.reason, detail: refusal.detail });
    return {
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision: 'deny',
        permissionDecisionReason: refusal.detail,
      },
    };
  };
}

/** Decides how an attempt ended from its `result` message, or from the process when there is none. */
function settleAttempt(
  mapper: ClaudeCodeMessageMapper,
  sessionError: unknown,
  process: ClaudeCodeProcess,
  executable: string,
  clock: Clock,
): CliAttemptOutcome {
  const result = mapper.attemptResult;
  const apiError = mapper.attemptApiError;
  if (result === null) {
    if (apiError !== null) throw new CliAttemptFailure(classifyClaudeCodeApiError(apiError, clock));
    const exit = process.exit;
    const stderrTail =
      exit.stderrTail === '' && sessionError instanceof Error ? sessionError.message : exit.stderrTail;
    throw new CliAttemptFailure(classifyClaudeCodeExit({ ...exit, stderrTail }, executable));
  }
  if (result.subtype === 'error_max_turns') return { reason: 'step_limit', summary: null };
  if (result.subtype === 'success' && !result.is_error)
    return { reason: 'task_complete', summary: result.result };
  if (apiError !== null) throw new CliAttemptFailure(classifyClaudeCodeApiError(apiError, clock));
  const apiErrorStatus = numberField(result, 'api_error_status');
  if (apiErrorStatus !== null) {
    const fromResult = {
      status: apiErrorStatus,
      type: null,
      error: null,
      message: result.subtype === 'success' ? result.result : result.errors.join('; '),
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
