import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { randomId } from '../clock/index.ts';
import { isLokiError } from '../errors/index.ts';
import { formatInputError } from './format-input-error.ts';
import type { Tool, ToolContext, ToolExecution, ToolResult } from './tool.ts';
import { refusalReasonOf } from './tool-errors.ts';
import { DEFAULT_MAX_OUTPUT_CHARACTERS, truncateToolOutput } from './truncate-tool-output.ts';

export interface ExecuteToolOptions {
  /** The id the model gave the call; generated when absent. */
  toolCallId?: string;
}

/**
 * The one way tools run. It never throws for anything the model did: invalid input, refusals and
 * tool failures all come back as `{ isError: true, output }` the model can read and act on. It
 * emits `agent.tool_called` before and `agent.tool_result` after (plus `sandbox.refused` for a
 * refusal), redacts secrets from inputs and outputs, and keeps outputs small for the context
 * window while the full text goes to a file.
 */
export async function executeTool<Schema extends z.ZodType>(
  tool: Tool<Schema>,
  rawInput: unknown,
  context: ToolContext,
  options: ExecuteToolOptions = {},
): Promise<ToolResult> {
  const toolCallId = options.toolCallId ?? randomId('call');
  const startedAt = performance.now();
  const identity = { runId: context.runId, taskId: context.taskId };
  context.emit({
    type: 'agent.tool_called',
    ...identity,
    data: { toolCallId, toolName: tool.name, input: context.redactor.redactValue(rawInput) },
  });

  const execution = await runTool(tool, rawInput, context);
  if (execution.refusal !== undefined) {
    context.emit({
      type: 'sandbox.refused',
      ...identity,
      data: {
        toolName: tool.name,
        reason: execution.refusal.reason,
        detail: context.redactor.redact(execution.refusal.detail),
      },
    });
  }

  const fullOutput = context.redactor.redact(execution.output);
  const maxCharacters = context.maxOutputCharacters ?? DEFAULT_MAX_OUTPUT_CHARACTERS;
  let output = fullOutput;
  let fullOutputPath: string | null = null;
  if (fullOutput.length > maxCharacters) {
    fullOutputPath = join(context.outputDirectory, `${toolCallId.replace(/[^\w.-]/g, '_')}-${tool.name}.txt`);
    await mkdir(context.outputDirectory, { recursive: true });
    await writeFile(fullOutputPath, fullOutput);
    output = truncateToolOutput(fullOutput, maxCharacters, fullOutputPath);
  }

  const isError = execution.isError ?? false;
  const result: ToolResult = {
    toolCallId,
    toolName: tool.name,
    isError,
    output,
    fullOutputPath,
    durationMilliseconds: Math.round(performance.now() - startedAt),
    isTaskComplete: !isError && execution.completion !== undefined,
    completion: execution.completion ?? null,
  };
  context.emit({
    type: 'agent.tool_result',
    ...identity,
    data: {
      toolCallId,
      toolName: tool.name,
      isError,
      output,
      fullOutputPath,
      durationMilliseconds: result.durationMilliseconds,
    },
  });
  return result;
}

async function runTool<Schema extends z.ZodType>(
  tool: Tool<Schema>,
  rawInput: unknown,
  context: ToolContext,
): Promise<ToolExecution> {
  if (context.signal.aborted)
    return { output: `${tool.name} was not run: the task was cancelled.`, isError: true };
  const parsed = tool.inputSchema.safeParse(rawInput);
  if (!parsed.success) {
    return {
      output: formatInputError(tool.name, parsed.error, expectedFields(tool.inputSchema)),
      isError: true,
    };
  }
  try {
    return await tool.execute(parsed.data, context);
  } catch (error) {
    // Converted, not swallowed: the message becomes the tool result the model reads and the
    // agent.tool_result event records.
    const reason = refusalReasonOf(error);
    const message = describeFailure(error);
    if (reason !== null) return { output: message, isError: true, refusal: { reason, detail: message } };
    return { output: message, isError: true };
  }
}

function describeFailure(error: unknown): string {
  if (isLokiError(error)) return error.message;
  if (error instanceof Error && error.name === 'AbortError') return 'Cancelled: the task was aborted.';
  if (error instanceof Error) return `Error: ${error.message}`;
  return `Error: ${String(error)}`;
}

function expectedFields(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}
