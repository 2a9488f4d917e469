import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { Codex, type CodexOptions, type RunStreamedResult, type ThreadOptions } from '@openai/codex-sdk';
import { systemClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import { shellQuote } from '../../sandbox/index.ts';
import { bindEventEmitter, type EmitRuntimeEvent } from './bind-event-emitter.ts';
import { buildCodexEnvironment, type CodexSandboxMode } from './build-codex-invocation.ts';
import { classifyCodexError, classifyCodexFailure } from './classify-codex-failure.ts';
import { CliAttemptFailure } from './cli-attempt-failure.ts';
import type { CliRuntimeOptions } from './cli-runtime-options.ts';
import type { CliRuntimeResult, CliTaskCompletion } from './cli-runtime-result.ts';
import { CliTurnMeter } from './cli-turn-meter.ts';
import { CodexLauncher } from './codex-launcher.ts';
import { CodexStreamMapper } from './codex-stream-mapper.ts';
import { CODEX_GUARDED_TOOLS_MATCHER, parseCodexRefusals } from './codex-tool-refusals.ts';
import { PROCESS_TAG_VARIABLE } from './list-run-processes.ts';
import { DEFAULT_PROCESS_STOP_TIMING } from './run-line-process.ts';
import { type CliAttemptOutcome, runCliAttempts } from './run-cli-attempts.ts';
import { terminateRunProcesses } from './terminate-run-processes.ts';

/** A command that serves Loki's tools over stdio MCP (`loki mcp-tools …`). */
export interface LokiToolsCommand {
  command: string;
  arguments: string[];
  /** Re-checks a `task_complete` call's input in Loki's process; null when it is invalid. */
  acceptTaskComplete: (input: unknown) => CliTaskCompletion | null;
  /** Sees every finished call of the server's tools (a planner's submissions), valid or not. */
  onToolCall?: (tool: string, input: unknown) => void;
}

export interface CodexRuntimeOptions extends CliRuntimeOptions {
  /** Codex has no flag for it: it is put in front of the prompt. */
  systemPrompt?: string;
  /**
   * Codex's own sandbox for the commands it runs. Inside Loki's sandbox (`wrapInvocation`) Codex's
   * own cannot start (see codexAgentSource), so there it is `danger-full-access` and Loki's
   * sandbox is the boundary.
   */
  sandboxMode: CodexSandboxMode;
  /** `key=value` overrides of Codex's configuration (`--config`), passed as given. */
  configOverrides?: readonly string[];
  /**
   * false: Codex offers the model no shell tool at all (`features.shell_tool`), for a role whose
   * catalog entry lacks run_command; its MCP tools stay. Codex has no switch for its other tools
   * one by one, and with models that edit files through `apply_patch` run in the shell (what
   * codex 0.163 offers gpt-5.2-codex) no shell also means no file edits.
   */
  shellTool?: boolean;
  /** Codex refuses to run outside a git repository unless told; worktrees are repositories. */
  skipGitRepoCheck?: boolean;
  /**
   * Loki's tools as Codex's MCP server `loki`. With them a run completes only through an accepted
   * `task_complete` call, as on every other runtime; without them a finished turn counts as done.
   */
  lokiTools?: LokiToolsCommand;
  /**
   * Loki's check of each shell command and patch before it runs, as Codex's PreToolUse hook (see
   * judgeCodexToolCall): a refused call is denied, and recorded in `refusalsFile` by the hook,
   * from which this runtime reports each as `sandbox.refused`. The hook is Loki's own, given on
   * the command line, so Codex runs it without a person trusting it first.
   */
  toolGuard?: CodexToolGuardCommand;
}

/** The PreToolUse hook's command line, and the file it records refusals in. */
export interface CodexToolGuardCommand {
  command: string;
  arguments: string[];
  refusalsFile: string;
}

/** Codex's flag that runs hooks nobody has reviewed in its UI: Loki's guard is its own, never the agent's. */
const BYPASS_HOOK_TRUST_FLAG = '--dangerously-bypass-hook-trust';

/** The model Codex picks when Loki names none: unknown to the price table, so priced at the dearest rates. */
const CODEX_DEFAULT_MODEL = 'default';

/** Codex's own instructions and tool definitions, in tokens, on top of Loki's prompt (sizes the first reservation). */
const CODEX_BASE_PROMPT_TOKENS = 20_000;

const RESUME_PROMPT = 'Your previous turn failed with an error. Continue the task from where you stopped.';

/**
 * Runs one task with Codex through the Codex SDK (`Codex`, `Thread.runStreamed`) in the task's
 * worktree and reports it as the same Loki events as every other runtime. Codex retries its own
 * connection problems (reported as agent.retry); a failed turn comes back to Loki's retry policy,
 * which resumes the thread. Codex has no turn limit of its own: the time limit bounds a run.
 */
export async function runCodex(options: CodexRuntimeOptions): Promise<CliRuntimeResult> {
  validateOptions(options);
  const emit = bindEventEmitter(options.emit, options.runId, options.taskId);
  const clock = options.clock ?? systemClock;
  const mapper = new CodexStreamMapper({
    emit,
    model: options.model ?? CODEX_DEFAULT_MODEL,
    clock,
    ...(options.lokiTools === undefined ? {} : { acceptTaskComplete: options.lokiTools.acceptTaskComplete }),
    ...(options.lokiTools?.onToolCall === undefined ? {} : { onLokiToolCall: options.lokiTools.onToolCall }),
  });
  const meter = new CliTurnMeter({
    provider: 'codex',
    displayName: 'Codex',
    emit,
    usage: mapper.usage,
    budget: options.budget,
    priceTable: options.priceTable,
    modelId: options.model ?? CODEX_DEFAULT_MODEL,
    basePromptTokens: CODEX_BASE_PROMPT_TOKENS,
  });
  // A refused reservation ends the run like an abort; the budget error is thrown after.
  const budgetStop = new AbortController();
  meter.onStop = () => budgetStop.abort(new Error('the budget cap was reached'));
  // Every process of this run carries the tag, so whatever Codex leaves behind can be found and ended.
  const tag = randomUUID();
  // Wrapped (in bubblewrap), or with the guard's flag, Codex is started through a launcher file:
  // the SDK spawns one path with its own arguments.
  await using launcher =
    options.wrapInvocation === undefined && options.toolGuard === undefined
      ? null
      : await CodexLauncher.write(codexExecutableOf(options), options.wrapInvocation ?? ((it) => it), {
          afterSubcommand: options.toolGuard === undefined ? [] : [BYPASS_HOOK_TRUST_FLAG],
        });
  const refusals = new RefusalReader(options.toolGuard?.refusalsFile, emit);
  const codex = new Codex(codexOptions(options, tag, launcher?.path));
  const threadOptions: ThreadOptions = {
    workingDirectory: options.worktree,
    sandboxMode: options.sandboxMode,
    // Nobody is there to approve: what the agent may do is set by the sandbox mode.
    approvalPolicy: 'never',
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.skipGitRepoCheck === undefined ? {} : { skipGitRepoCheck: options.skipGitRepoCheck }),
  };
  const firstPrompt =
    options.systemPrompt === undefined || options.systemPrompt === ''
      ? options.prompt
      : `${options.systemPrompt}\n\n${options.prompt}`;

  const runAttempt = async (attempt: number, signal: AbortSignal): Promise<CliAttemptOutcome> => {
    mapper.beginAttempt();
    // The first attempt may continue an earlier thread too (a new RARV round after a failed verification).
    const threadId = attempt > 1 ? mapper.threadId : (options.resumeSessionId ?? null);
    const thread =
      threadId === null ? codex.startThread(threadOptions) : codex.resumeThread(threadId, threadOptions);
    const prompt = attempt > 1 ? RESUME_PROMPT : threadId === null ? firstPrompt : options.prompt;
    await meter.beginSession(prompt.length);
    if (signal.aborted) throw signal.reason;
    const streamError = await streamTurn(() => thread.runStreamed(prompt, { signal }), mapper, meter);
    await endLeftoverProcesses(options, tag, emit);
    await refusals.report();
    await meter.endSession();
    if (signal.aborted) throw signal.reason;
    // A completed turn wins over an error after it: the work is done and was reported.
    if (mapper.hasCompletedTurn) return attemptOutcome(options, mapper);
    if (mapper.attemptFailureMessage !== null) {
      throw new CliAttemptFailure(classifyCodexFailure(mapper.attemptFailureMessage, clock));
    }
    throw new CliAttemptFailure(classifyCodexError(streamError, codexExecutableOf(options) ?? 'codex'));
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
    usage: { ...mapper.usage, modelCalls: mapper.steps },
    exitCode: null,
    sessionId: mapper.threadId,
    failure: ending.failure,
    completion: ending.reason === 'task_complete' ? mapper.completion : null,
  };
}

/** Feeds every event of one turn to the mapper; returns what ended the stream early, if anything. */
async function streamTurn(
  start: () => Promise<RunStreamedResult>,
  mapper: CodexStreamMapper,
  meter: CliTurnMeter,
): Promise<unknown> {
  try {
    const { events } = await start();
    for await (const event of events) {
      const turn = mapper.handleEvent(event);
      if (turn !== null) await meter.turnEnded(turn);
    }
    return null;
  } catch (error) {
    // Converted by the caller: an abort, a turn failure the stream reported, or a process failure.
    return error;
  }
}

function attemptOutcome(options: CodexRuntimeOptions, mapper: CodexStreamMapper): CliAttemptOutcome {
  if (options.lokiTools === undefined || mapper.completion !== null) {
    return { reason: 'task_complete', summary: mapper.completion?.summary ?? mapper.lastMessage };
  }
  // The turn ended without the agent saying it is done: as on the API path, that is no progress.
  return { reason: 'no_progress', summary: mapper.lastMessage };
}

/** The codex to run: the option, then LOKI_CODEX_PATH; undefined lets the SDK find the bundled one. */
function codexExecutableOf(options: CodexRuntimeOptions): string | undefined {
  const executable = options.executablePath ?? options.env.LOKI_CODEX_PATH;
  return executable === '' ? undefined : executable;
}

function codexOptions(options: CodexRuntimeOptions, tag: string, launcher: string | undefined): CodexOptions {
  const executable = launcher ?? codexExecutableOf(options);
  const lokiTools = options.lokiTools;
  return {
    ...(executable === undefined ? {} : { codexPathOverride: executable }),
    env: { ...buildCodexEnvironment(options.env, options.extraEnv), [PROCESS_TAG_VARIABLE]: tag },
    ...(options.configOverrides === undefined ? {} : { configOverrides: [...options.configOverrides] }),
    config: {
      // Codex's calls home (update check, analytics, plugin catalog) are no part of a task, and in
      // Loki's sandbox the network policy would refuse each one with a warning.
      check_for_update_on_startup: false,
      analytics: { enabled: false },
      features: {
        plugins: false,
        ...(options.shellTool === false ? { shell_tool: false } : {}),
        // On the command line, so that no configuration the agent can write turns the guard off.
        ...(options.toolGuard === undefined ? {} : { hooks: true }),
      },
      ...(options.toolGuard === undefined ? {} : { hooks: guardHooks(options.toolGuard) }),
      ...(lokiTools === undefined
        ? {}
        : {
            mcp_servers: {
              loki: {
                command: lokiTools.command,
                args: lokiTools.arguments,
                // The first model call must already see task_complete, and a run without it is broken.
                required: true,
                startup_readiness: 'catalog',
                // exec never asks for approval; without this Codex refuses every call of the server.
                default_tools_approval_mode: 'approve',
              },
            },
          }),
    },
  };
}

/** Codex's inline hook configuration: the guard before every shell command and patch. */
function guardHooks(guard: CodexToolGuardCommand) {
  const command = [guard.command, ...guard.arguments].map(shellQuote).join(' ');
  return {
    PreToolUse: [
      { matcher: CODEX_GUARDED_TOOLS_MATCHER, hooks: [{ type: 'command', command, timeout: 60 }] },
    ],
  };
}

/**
 * Reports the refusals the guard recorded since the last look, each once, as sandbox.refused.
 * Codex's own event stream does not carry a denied call at all, so this file is the only trace.
 */
class RefusalReader {
  readonly #file: string | undefined;
  readonly #emit: EmitRuntimeEvent;
  #reported = 0;

  constructor(file: string | undefined, emit: EmitRuntimeEvent) {
    this.#file = file;
    this.#emit = emit;
  }

  async report(): Promise<void> {
    if (this.#file === undefined) return;
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      // No refusal yet: the guard creates the file with the first one.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const refusals = parseCodexRefusals(text);
    for (const refusal of refusals.slice(this.#reported)) this.#emit('sandbox.refused', refusal);
    this.#reported = Math.max(this.#reported, refusals.length);
  }
}

async function endLeftoverProcesses(
  options: CodexRuntimeOptions,
  tag: string,
  emit: EmitRuntimeEvent,
): Promise<void> {
  const timing = options.processStopTiming ?? DEFAULT_PROCESS_STOP_TIMING;
  const survivors = await terminateRunProcesses({
    processGroupId: null,
    tag,
    graceMilliseconds: timing.graceMilliseconds,
    killDeadlineMilliseconds: timing.killDeadlineMilliseconds,
  });
  if (survivors.length === 0) return;
  emit('agent.error', {
    code: 'CODEX_PROCESSES_SURVIVED',
    category: 'internal',
    message: `processes the agent CLI started survived SIGKILL: ${survivors.map((survivor) => survivor.pid).join(', ')}`,
  });
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
