import { isAbsolute } from 'node:path';
import { systemClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import { bindEventEmitter } from './bind-event-emitter.ts';
import {
  buildCodexArguments,
  buildCodexEnvironment,
  type CodexSandboxMode,
} from './build-codex-invocation.ts';
import { classifyCodexExit, classifyCodexFailure } from './classify-codex-failure.ts';
import { CliAttemptFailure } from './cli-attempt-failure.ts';
import type { CliRuntimeResult } from './cli-runtime-result.ts';
import { CodexStreamMapper } from './codex-stream-mapper.ts';
import { runAgentCliProcess } from './report-surviving-processes.ts';
import type { CliRuntimeOptions } from './cli-runtime-options.ts';
import { type CliAttemptOutcome, runCliAttempts } from './run-cli-attempts.ts';

export interface CodexRuntimeOptions extends CliRuntimeOptions {
  /** Codex has no flag for it: it is put in front of the prompt. */
  systemPrompt?: string;
  sandboxMode: CodexSandboxMode;
  /** `-c key=value` overrides of Codex's configuration. */
  configOverrides?: readonly string[];
  /** Codex refuses to run outside a git repository unless told; worktrees are repositories. */
  skipGitRepoCheck?: boolean;
}

const RESUME_PROMPT = 'Your previous turn failed with an error. Continue the task from where you stopped.';

/**
 * Runs one task with Codex (`codex exec --json`) in the task's worktree and reports it as the
 * same Loki events as every other runtime. Codex retries its own connection problems (reported
 * as agent.retry); a failed turn comes back to Loki's retry policy, which resumes the thread.
 * Codex has no turn limit of its own: the time limit bounds a run.
 */
export async function runCodex(options: CodexRuntimeOptions): Promise<CliRuntimeResult> {
  validateOptions(options);
  const emit = bindEventEmitter(options.emit, options.runId, options.taskId);
  const clock = options.clock ?? systemClock;
  const executable = options.executablePath ?? 'codex';
  const mapper = new CodexStreamMapper({
    emit,
    model: options.model ?? 'default',
    clock,
    ...(options.priceTable === undefined ? {} : { priceTable: options.priceTable }),
  });
  const environment = buildCodexEnvironment(options.env, options.extraEnv);
  const firstPrompt =
    options.systemPrompt === undefined || options.systemPrompt === ''
      ? options.prompt
      : `${options.systemPrompt}\n\n${options.prompt}`;
  let lastExitCode: number | null = null;

  const runAttempt = async (attempt: number, signal: AbortSignal): Promise<CliAttemptOutcome> => {
    mapper.beginAttempt();
    // The first attempt may continue an earlier thread too (a new RARV round after a failed verification).
    const resumeThreadId = attempt > 1 ? mapper.threadId : (options.resumeSessionId ?? null);
    const commandArguments = buildCodexArguments({
      prompt: attempt > 1 ? RESUME_PROMPT : resumeThreadId === null ? firstPrompt : options.prompt,
      resumeThreadId,
      sandboxMode: options.sandboxMode,
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.configOverrides === undefined ? {} : { configOverrides: options.configOverrides }),
      ...(options.skipGitRepoCheck === undefined ? {} : { skipGitRepoCheck: options.skipGitRepoCheck }),
    });
    const exit = await runAgentCliProcess({
      runtime: options,
      executable,
      commandArguments,
      env: environment,
      onLine: (line) => mapper.handleLine(line),
      signal,
      emit,
      codePrefix: 'CODEX',
    });
    lastExitCode = exit.exitCode;
    // A completed turn wins over a non-zero exit: the work is done and was reported.
    if (mapper.hasCompletedTurn) return { reason: 'task_complete', summary: mapper.lastMessage };
    if (mapper.attemptFailureMessage !== null) {
      throw new CliAttemptFailure(classifyCodexFailure(mapper.attemptFailureMessage, clock));
    }
    throw new CliAttemptFailure(classifyCodexExit(exit, executable));
  };

  const ending = await runCliAttempts({
    provider: 'codex',
    displayName: 'Codex',
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
    usage: { ...mapper.usage, modelCalls: mapper.steps },
    exitCode: lastExitCode,
    sessionId: mapper.threadId,
    failure: ending.failure,
  };
}

function validateOptions(options: CodexRuntimeOptions): void {
  const problems = [
    isAbsolute(options.worktree) ? null : `worktree must be an absolute path, got ${options.worktree}`,
    options.timeoutMilliseconds > 0 ? null : 'timeoutMilliseconds must be positive',
    options.prompt.trim() === '' ? 'prompt must not be empty' : null,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) {
    throw new LokiError(`invalid Codex run: ${problems.join('; ')}`, {
      code: 'CODEX_INVALID_OPTIONS',
      category: 'internal',
      context: { worktree: options.worktree },
    });
  }
}
