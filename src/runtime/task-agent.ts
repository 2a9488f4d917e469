import type { LanguageModelV4Message } from '@ai-sdk/provider';
import { LokiError } from '../errors/index.ts';
import type { AgentStopReason } from '../events/index.ts';
import {
  type ClaudeCodeRuntimeOptions,
  type CliRuntimeResult,
  type CodexRuntimeOptions,
  runClaudeCode,
  runCodex,
} from '../providers/index.ts';
import { type AgentLoopOptions, runAgentLoop, type TaskCompletion, type UsageTotals } from './agent-loop.ts';

export interface AgentRound {
  /** The task prompt on the first round; on later ones what went wrong (e.g. the verification output). */
  prompt: string;
  signal?: AbortSignal;
}

export interface AgentRoundResult {
  reason: AgentStopReason;
  completion: TaskCompletion | null;
  usage: UsageTotals;
}

/**
 * One agent working on one task over several rounds; each round continues the same conversation.
 * The RARV cycle drives it the same way whatever runs underneath: Loki's tool loop over an API
 * model, or an agent CLI.
 */
export interface TaskAgent {
  readonly runtime: 'api' | 'claude-code' | 'codex' | 'scripted';
  act(round: AgentRound): Promise<AgentRoundResult>;
}

/** Loki's own tool loop: the conversation is kept in memory between rounds. */
export function createLoopAgent(
  loop: Omit<AgentLoopOptions, 'messages' | 'system' | 'signal'>,
  system: string,
): TaskAgent {
  const messages: LanguageModelV4Message[] = [];
  return {
    runtime: loop.provider === 'scripted' ? 'scripted' : 'api',
    async act(round) {
      messages.push({ role: 'user', content: [{ type: 'text', text: round.prompt }] });
      const result = await runAgentLoop({
        ...loop,
        system,
        messages,
        ...(round.signal === undefined ? {} : { signal: round.signal }),
      });
      return { reason: result.reason, completion: result.completion, usage: result.usage };
    },
  };
}

/**
 * Claude Code as the agent: it runs its own tool loop in the worktree; later rounds resume its
 * session, so it keeps what it learned. It has no task_complete tool: a successful end of its
 * run counts as the agent saying it is done, and the harness verifies as usual.
 */
export function createClaudeCodeAgent(
  options: Omit<ClaudeCodeRuntimeOptions, 'prompt' | 'signal' | 'resumeSessionId'>,
): TaskAgent {
  return createCliAgent('claude-code', (round, sessionId) =>
    runClaudeCode({
      ...options,
      prompt: round.prompt,
      ...(sessionId === null ? {} : { resumeSessionId: sessionId }),
      ...(round.signal === undefined ? {} : { signal: round.signal }),
    }),
  );
}

/** Codex as the agent, like Claude Code: later rounds resume its thread. */
export function createCodexAgent(
  options: Omit<CodexRuntimeOptions, 'prompt' | 'signal' | 'resumeSessionId'>,
): TaskAgent {
  return createCliAgent('codex', (round, sessionId) =>
    runCodex({
      ...options,
      prompt: round.prompt,
      ...(sessionId === null ? {} : { resumeSessionId: sessionId }),
      ...(round.signal === undefined ? {} : { signal: round.signal }),
    }),
  );
}

/**
 * An agent CLI runs its own tool loop in the worktree. One that is served Loki's task_complete (Codex)
 * completes through it; for one that is not, a successful end of its run counts as the agent saying
 * it is done. The harness verifies as usual.
 */
function createCliAgent(
  runtime: 'claude-code' | 'codex',
  run: (round: AgentRound, sessionId: string | null) => Promise<CliRuntimeResult>,
): TaskAgent {
  let sessionId: string | null = null;
  return {
    runtime,
    async act(round) {
      const result = await run(round, sessionId);
      sessionId = result.sessionId ?? sessionId;
      if (result.failure !== null && result.failure.category === 'permanent') {
        throw new LokiError(result.failure.message, { code: result.failure.code, category: 'provider' });
      }
      const isDone = result.reason === 'task_complete';
      // A CLI that completed through Loki's task_complete reports what it said; otherwise its summary.
      const completion = result.completion ?? {
        summary: result.summary ?? 'done',
        filesChanged: [],
        testsRun: [],
      };
      return {
        reason: result.reason,
        completion: isDone ? completion : null,
        usage: result.usage,
      };
    },
  };
}
