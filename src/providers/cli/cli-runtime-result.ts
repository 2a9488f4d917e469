import type { AgentStopReason } from '../../events/index.ts';
import type { ModelFailure } from '../classify-model-failure.ts';

/** Tokens and cost over every model call an agent CLI made, summed across its attempts. */
export interface CliRuntimeUsage {
  /** Uncached input tokens (cache reads and writes are counted apart, as they are billed apart). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** False as soon as one model's price was unknown: `costUsd` is then a lower bound. */
  isCostKnown: boolean;
  modelCalls: number;
}

/** What an agent CLI run came to; the same shape for every CLI runtime. */
export interface CliRuntimeResult {
  reason: AgentStopReason;
  /** Model calls that produced a reply, across every attempt. */
  steps: number;
  /** The agent's final message, when it finished one. */
  summary: string | null;
  usage: CliRuntimeUsage;
  /** Exit code of the last process run; null when it was killed or never started. */
  exitCode: number | null;
  /** The CLI's own session (Claude Code) or thread (Codex) id, to resume or inspect it later. */
  sessionId: string | null;
  /** Why the run stopped when `reason` is `error`: the classified failure of its last attempt. */
  failure: ModelFailure | null;
}

export function emptyUsage(): CliRuntimeUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    isCostKnown: true,
    modelCalls: 0,
  };
}
