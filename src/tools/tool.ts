import type { z } from 'zod';
import type { NewEvent } from '../events/index.ts';
import type { CommandPolicy, CommandRunner, Redactor } from '../sandbox/index.ts';

/** Everything a tool may touch. Tools get nothing from globals: paths, processes and time come from here. */
export interface ToolContext {
  /** Absolute path of the task's worktree; every path a tool accepts is confined to it. */
  worktree: string;
  runner: CommandRunner;
  emit: (event: NewEvent) => void;
  /** Where full outputs are kept when the model-visible output is truncated. */
  outputDirectory: string;
  /** The longest a command may run; a tool call may ask for less, never more. */
  commandTimeoutMilliseconds: number;
  allowNetwork: boolean;
  /** The complete environment of commands (see `buildSandboxEnvironment`). */
  env: Readonly<Record<string, string>>;
  redactor: Redactor;
  signal: AbortSignal;
  taskId: string | null;
  runId: string | null;
  /** Defaults to the default deny list. */
  commandPolicy?: CommandPolicy;
  /** Model-visible output beyond this is cut to head and tail (default 30,000). */
  maxOutputCharacters?: number;
}

/** What the agent reports when it calls task_complete. */
export interface TaskCompletion {
  summary: string;
  filesChanged: string[];
  testsRun: string[];
}

/** A refusal the wrapper records as a `sandbox.refused` event. */
export interface ToolRefusal {
  reason: string;
  detail: string;
}

/** What a tool's `execute` returns; the wrapper turns it into a ToolResult. */
export interface ToolExecution {
  output: string;
  isError?: boolean;
  refusal?: ToolRefusal;
  completion?: TaskCompletion;
}

/**
 * A tool as data: the model sees the name, description and input schema; the wrapper
 * (`executeTool`) validates input against the schema before `execute` ever runs, so `execute`
 * MUST only be called through it.
 */
export interface Tool<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Schema;
  execute(input: z.output<Schema>, context: ToolContext): Promise<ToolExecution>;
}

/** The outcome of one tool call, as the agent loop and the `agent.tool_result` event see it. */
export interface ToolResult {
  toolCallId: string;
  toolName: string;
  isError: boolean;
  /** Redacted and, when long, truncated to head and tail. */
  output: string;
  /** The full (redacted) output when `output` was truncated. */
  fullOutputPath: string | null;
  durationMilliseconds: number;
  /** True only for a successful task_complete: the agent loop stops. */
  isTaskComplete: boolean;
  completion: TaskCompletion | null;
}

/** Ties the input type of `execute` to the schema, so each tool is checked against its own schema. */
export function defineTool<Schema extends z.ZodType>(tool: Tool<Schema>): Tool<Schema> {
  return tool;
}
