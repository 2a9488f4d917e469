import type { Clock } from '../../clock/index.ts';
import type { NewEvent } from '../../events/index.ts';
import type { PriceTable } from '../pricing/index.ts';
import type { Environment } from '../provider-name.ts';
import type { CliBudget } from './cli-turn-meter.ts';
import type { CliRetryOptions } from './run-cli-attempts.ts';
import type { ProcessStopTiming } from './run-line-process.ts';

/** A program and its arguments, as about to be spawned. */
export interface ProcessInvocation {
  executable: string;
  arguments: string[];
}

/** What every agent-CLI runtime (Claude Code, Codex) takes; each adds its own flags. */
export interface CliRuntimeOptions {
  prompt: string;
  systemPrompt?: string;
  /** The task's worktree: the CLI's working directory. Absolute. */
  worktree: string;
  model?: string;
  /** Loki's environment; only the CLI's own variables and the basics are passed on. */
  env: Environment;
  /** Added to the child's environment as given (e.g. Bedrock or Vertex settings). */
  extraEnv?: Readonly<Record<string, string>>;
  /** Defaults to the CLI's name, looked up on the PATH of `env`. */
  executablePath?: string;
  emit: (event: NewEvent) => void;
  runId: string | null;
  taskId: string | null;
  signal?: AbortSignal;
  /** For the whole run, retries and waits included. */
  timeoutMilliseconds: number;
  /** Continue this earlier session (thread) with `prompt` instead of starting a new one. */
  resumeSessionId?: string;
  /** Rewrites the command line, e.g. to run the CLI inside bubblewrap (see `wrapInBubblewrap`). */
  wrapInvocation?: (invocation: ProcessInvocation) => ProcessInvocation;
  /** Loki's retry policy: a retry resumes the session. */
  retry?: CliRetryOptions;
  priceTable?: PriceTable;
  /** The run's spending cap: each turn is charged as it ends, and one turn is reserved ahead. */
  budget?: CliBudget;
  clock?: Clock;
  processStopTiming?: ProcessStopTiming;
}
