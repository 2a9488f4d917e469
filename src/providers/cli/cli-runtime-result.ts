import type { AgentStopReason } from '../../events/index.ts';
import type { ModelFailure } from '../failures/index.ts';
import type { UsageTotals } from '../pricing/index.ts';

/** Usage of an agent CLI run: the same totals as every other runtime. */
export type CliRuntimeUsage = UsageTotals;

/** The agent's own report of a finished task, from an accepted `task_complete` call. */
export interface CliTaskCompletion {
  summary: string;
  filesChanged: string[];
  testsRun: string[];
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
  /** Set when the agent completed through Loki's `task_complete` tool (served over MCP). */
  completion?: CliTaskCompletion | null;
}
