import type {
  JSONSchema7,
  LanguageModelV4,
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  LanguageModelV4ToolCallPart,
  LanguageModelV4ToolResultPart,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { z } from 'zod';
import type { AgentStopReason, NewEvent } from '../events/index.ts';
import { emptyUsageTotals, type UsageTotals } from '../providers/index.ts';
import { type CallWithRetriesOptions, callWithRetries } from '../resilience/index.ts';
import {
  DEFAULT_TOOL_OUTPUT_HISTORY_TOKENS,
  fitToolOutputsToBudget,
  rememberFullOutputPath,
} from './fit-tool-outputs-to-budget.ts';
import { markCacheBreakpoints, usesCacheBreakpoints } from './mark-cache-breakpoints.ts';

/** What the loop needs to know of a tool: how to describe it to the model. Execution is injected. */
export interface LoopTool {
  name: string;
  description: string;
  inputSchema: z.ZodType;
}

export interface ToolCallRequest {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

export interface ToolOutcome {
  isError: boolean;
  /** What the model sees. */
  output: string;
  /** Set by task_complete: the agent says it is done (the harness still verifies). */
  completion?: TaskCompletion;
  /** Where the tool kept the full output, if it did: named when the output is shortened later. */
  fullOutputPath?: string | null;
}

export interface TaskCompletion {
  summary: string;
  filesChanged: string[];
  testsRun: string[];
}

/** Tokens of one model call; `inputTokens` excludes the cached ones, which are priced apart. */
export interface StepTokens {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** A hold on the budget for one model call: settled with its real cost, or released if it failed. */
export interface BudgetHold {
  settle(costUsd: number, isPriceKnown: boolean): Promise<void>;
  release(): Promise<void>;
}

/** The run's spending cap, consulted before every model call (DESIGN §3 "Budget governor"). */
export interface CallBudget {
  /** Reserves the worst case of the next call; throws BUDGET_EXHAUSTED when it would cross the cap. */
  reserve(call: { modelId: string; promptCharacters: number }): Promise<BudgetHold>;
}

export interface AgentLoopOptions {
  model: LanguageModelV4;
  provider: string;
  system: string;
  /** The conversation so far; the loop appends to it, so a retry after a failed verification continues it. */
  messages: LanguageModelV4Message[];
  tools: readonly LoopTool[];
  executeTool: (call: ToolCallRequest) => Promise<ToolOutcome>;
  price: (modelId: string, usage: StepTokens) => { costUsd: number; isPriceKnown: boolean };
  maxSteps: number;
  /** The same call (tool + input) this many times in a row is a loop. */
  maxRepeatedCalls?: number;
  /** This many steps in a row without a call not seen before is no progress. */
  maxStepsWithoutProgress?: number;
  retry: Omit<CallWithRetriesOptions, 'emit' | 'runId' | 'taskId' | 'signal' | 'provider'>;
  emit: (event: NewEvent) => void;
  runId: string | null;
  taskId: string | null;
  signal?: AbortSignal;
  budget?: CallBudget;
  /** Estimated tokens that tool outputs kept in the conversation may take; older ones shrink first. */
  toolOutputHistoryTokens?: number;
}

export type { UsageTotals };

export interface AgentLoopResult {
  reason: AgentStopReason;
  steps: number;
  completion: TaskCompletion | null;
  usage: UsageTotals;
  /** Milliseconds spent inside model calls (streaming included), for overhead measurements. */
  modelMilliseconds: number;
  /** Milliseconds spent executing tools. */
  toolMilliseconds: number;
}

interface StepOutput {
  text: string;
  toolCalls: LanguageModelV4ToolCallPart[];
  usage: LanguageModelV4Usage;
  modelId: string;
}

/** Output tokens one model call may produce. */
export const MAX_OUTPUT_TOKENS_PER_CALL = 8192;

/** What a model that answered without a tool call is told; it names task_complete only when it has it. */
function nudgeFor(tools: readonly LoopTool[]): string {
  const finish = tools.some((tool) => tool.name === 'task_complete')
    ? ', and call task_complete with a summary, the files you changed and the tests you ran when it is done'
    : `, and finish by calling ${tools.map((tool) => tool.name).join(' or ')}`;
  return `You answered without calling a tool. Continue the task with the tools${finish}.`;
}

/**
 * Loki's own tool loop over an AI SDK language model (specification level, so the SDK's hidden
 * retries and tool execution are out of the way: Loki's retry policy, tools and events are in
 * charge). Stops on task_complete, the step limit, a detected loop, or no progress.
 */
export async function runAgentLoop(options: AgentLoopOptions): Promise<AgentLoopResult> {
  const functionTools = options.tools.map(toFunctionTool);
  const usage = emptyUsageTotals();
  const maxRepeatedCalls = options.maxRepeatedCalls ?? 3;
  const maxStepsWithoutProgress = options.maxStepsWithoutProgress ?? 8;
  const seenCalls = new Set<string>();
  let lastCallSignature: string | null = null;
  let repeatedCalls = 0;
  let stepsWithoutProgress = 0;
  let modelMilliseconds = 0;
  let toolMilliseconds = 0;
  const finish = (
    reason: AgentStopReason,
    steps: number,
    completion: TaskCompletion | null,
  ): AgentLoopResult => {
    options.emit({
      type: 'agent.finished',
      runId: options.runId,
      taskId: options.taskId,
      data: { reason, steps, summary: completion?.summary ?? null },
    });
    return { reason, steps, completion, usage, modelMilliseconds, toolMilliseconds };
  };

  for (let step = 1; step <= options.maxSteps; step += 1) {
    if (options.signal?.aborted) return finish('aborted', step - 1, null);
    fitToolOutputsToBudget(
      options.messages,
      options.toolOutputHistoryTokens ?? DEFAULT_TOOL_OUTPUT_HISTORY_TOKENS,
    );
    // Spend is reserved before the call: no call starts that could cross the cap.
    const hold = await options.budget?.reserve({
      modelId: options.model.modelId,
      promptCharacters: options.system.length + JSON.stringify(options.messages).length,
    });
    const started = performance.now();
    let output: StepOutput;
    try {
      output = await callWithRetries(() => streamOneStep(options, functionTools), {
        ...options.retry,
        provider: options.provider,
        emit: options.emit,
        runId: options.runId,
        taskId: options.taskId,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      await hold?.release();
      if (options.signal?.aborted) return finish('aborted', step - 1, null);
      finish('error', step - 1, null);
      throw error;
    } finally {
      modelMilliseconds += performance.now() - started;
    }
    const priced = recordUsage(options, usage, output);
    await hold?.settle(priced.costUsd, priced.isPriceKnown);
    if (output.text !== '') {
      options.emit({
        type: 'agent.text',
        runId: options.runId,
        taskId: options.taskId,
        data: { text: output.text },
      });
    }
    options.messages.push({
      role: 'assistant',
      content: [
        ...(output.text === '' ? [] : [{ type: 'text' as const, text: output.text }]),
        ...output.toolCalls,
      ],
    });

    if (output.toolCalls.length === 0) {
      stepsWithoutProgress += 1;
      if (stepsWithoutProgress >= maxStepsWithoutProgress) return finish('no_progress', step, null);
      options.messages.push({ role: 'user', content: [{ type: 'text', text: nudgeFor(options.tools) }] });
      continue;
    }

    const results: LanguageModelV4ToolResultPart[] = [];
    let completion: TaskCompletion | null = null;
    let isNewCall = false;
    let isLoop = false;
    for (const call of output.toolCalls) {
      const signature = `${call.toolName}:${JSON.stringify(call.input)}`;
      repeatedCalls = signature === lastCallSignature ? repeatedCalls + 1 : 1;
      lastCallSignature = signature;
      if (!seenCalls.has(signature)) isNewCall = true;
      seenCalls.add(signature);
      if (repeatedCalls >= maxRepeatedCalls) {
        isLoop = true;
        break;
      }
      const toolStarted = performance.now();
      const outcome = await options.executeTool({
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        input: call.input,
      });
      toolMilliseconds += performance.now() - toolStarted;
      const result: LanguageModelV4ToolResultPart = {
        type: 'tool-result',
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: { type: outcome.isError ? 'error-text' : 'text', value: outcome.output },
      };
      rememberFullOutputPath(result, outcome.fullOutputPath ?? null);
      results.push(result);
      if (outcome.completion !== undefined && !outcome.isError) {
        completion = outcome.completion;
        break;
      }
    }
    // Every tool call the model made gets a result, even the ones skipped after a stop.
    for (const call of output.toolCalls.slice(results.length)) {
      results.push({
        type: 'tool-result',
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: { type: 'error-text', value: 'not run: the agent stopped before this call' },
      });
    }
    options.messages.push({ role: 'tool', content: results });
    if (completion !== null) return finish('task_complete', step, completion);
    if (isLoop) return finish('loop_detected', step, null);
    stepsWithoutProgress = isNewCall ? 0 : stepsWithoutProgress + 1;
    if (stepsWithoutProgress >= maxStepsWithoutProgress) return finish('no_progress', step, null);
  }
  return finish('step_limit', options.maxSteps, null);
}

async function streamOneStep(
  options: AgentLoopOptions,
  tools: LanguageModelV4FunctionTool[],
): Promise<StepOutput> {
  const request = usesCacheBreakpoints(options.provider)
    ? markCacheBreakpoints(options.system, options.messages, tools)
    : { prompt: [{ role: 'system' as const, content: options.system }, ...options.messages], tools };
  const { stream } = await options.model.doStream({
    prompt: request.prompt,
    tools: request.tools,
    toolChoice: { type: 'auto' },
    // Bounded, so that the budget's worst-case reservation for a call really is the worst case.
    maxOutputTokens: MAX_OUTPUT_TOKENS_PER_CALL,
    ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
  });
  let text = '';
  const toolCalls: LanguageModelV4ToolCallPart[] = [];
  let usage: LanguageModelV4Usage | null = null;
  let modelId = options.model.modelId;
  for await (const part of stream) {
    switch (part.type) {
      case 'text-delta':
        text += part.delta;
        break;
      case 'tool-call':
        toolCalls.push({
          type: 'tool-call',
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          input: parseToolInput(part.input),
        });
        break;
      case 'response-metadata':
        if (part.modelId !== undefined) modelId = part.modelId;
        break;
      case 'finish':
        usage = part.usage;
        break;
      case 'error':
        // A stream that breaks mid-way is a failed call: thrown so the retry policy classifies it.
        throw part.error;
      default:
        break;
    }
  }
  if (usage === null) throw new Error('the model stream ended without a finish event (malformed stream)');
  return { text, toolCalls, usage, modelId };
}

/** Tool input arrives as JSON text; invalid JSON is passed on as the raw string for the tool wrapper to reject. */
function parseToolInput(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch {
    // Not JSON: the tool wrapper's validation turns it into an error the model can act on.
    return input;
  }
}

function recordUsage(
  options: AgentLoopOptions,
  totals: UsageTotals,
  output: StepOutput,
): { costUsd: number; isPriceKnown: boolean } {
  const cacheReadTokens = output.usage.inputTokens.cacheRead ?? 0;
  const cacheWriteTokens = output.usage.inputTokens.cacheWrite ?? 0;
  const inputTokens =
    output.usage.inputTokens.noCache ??
    Math.max(0, (output.usage.inputTokens.total ?? 0) - cacheReadTokens - cacheWriteTokens);
  const outputTokens = output.usage.outputTokens.total ?? 0;
  const priced = options.price(output.modelId, {
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
  });
  totals.inputTokens += inputTokens;
  totals.outputTokens += outputTokens;
  totals.cacheReadTokens += cacheReadTokens;
  totals.cacheWriteTokens += cacheWriteTokens;
  totals.costUsd += priced.costUsd;
  totals.isCostKnown &&= priced.isPriceKnown;
  totals.modelCalls += 1;
  options.emit({
    type: 'usage.recorded',
    runId: options.runId,
    taskId: options.taskId,
    data: {
      provider: options.provider,
      model: output.modelId,
      inputTokens,
      outputTokens,
      cacheReadTokens,
      cacheWriteTokens,
      costUsd: priced.costUsd,
      isPriceKnown: priced.isPriceKnown,
    },
  });
  return priced;
}

function toFunctionTool(tool: LoopTool): LanguageModelV4FunctionTool {
  return {
    type: 'function',
    name: tool.name,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.inputSchema, { io: 'input' }) as JSONSchema7,
  };
}
