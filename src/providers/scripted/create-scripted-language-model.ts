import { setTimeout as delay } from 'node:timers/promises';
import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4Content,
  type LanguageModelV4FinishReason,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
  type LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { type Clock, systemClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import {
  parseScriptedScript,
  type ScriptedScript,
  type ScriptedScriptInput,
  type ScriptedStep,
} from './scripted-script.ts';

export interface ScriptedLanguageModelOptions {
  /** Waited before each answer, to make demos and benchmarks look like a real model. */
  latencyMilliseconds?: number;
  /** Stamps response timestamps, so transcripts are deterministic in tests. */
  clock?: Clock;
}

/** The scripted model's id and provider: it is labelled as what it is wherever it appears. */
export const SCRIPTED_MODEL_ID = 'scripted';

export interface ScriptedLanguageModel extends LanguageModelV4 {
  readonly stepCount: number;
  /** How many steps have been played (including failing ones). */
  readonly stepsPlayed: number;
}

/**
 * A deterministic AI SDK language model that replays a script, one step per model call, so the
 * very same `streamText` code path Loki uses for real providers runs offline. One instance is one
 * cursor through the script: give each agent its own.
 */
export function createScriptedLanguageModel(
  script: ScriptedScriptInput | ScriptedScript,
  options: ScriptedLanguageModelOptions = {},
): ScriptedLanguageModel {
  const steps = parseScriptedScript(script, 'the inline script').steps;
  const latencyMilliseconds = options.latencyMilliseconds ?? 0;
  const clock = options.clock ?? systemClock;
  let stepsPlayed = 0;

  async function takeStep(
    callOptions: LanguageModelV4CallOptions,
  ): Promise<{ step: ScriptedStep; number: number }> {
    callOptions.abortSignal?.throwIfAborted();
    if (latencyMilliseconds > 0)
      await delay(latencyMilliseconds, undefined, { signal: callOptions.abortSignal });
    const step = steps[stepsPlayed];
    if (step === undefined) {
      throw new LokiError(
        `scripted model: script exhausted after ${steps.length} steps. The agent asked for another ` +
          'answer: add steps to the script, or end it with a task_complete tool call.',
        { code: 'SCRIPTED_MODEL_EXHAUSTED', category: 'user', context: { stepCount: steps.length } },
      );
    }
    stepsPlayed += 1;
    if (step.failure !== undefined) throw scriptedFailure(step.failure, stepsPlayed);
    return { step, number: stepsPlayed };
  }

  return {
    specificationVersion: 'v4',
    provider: 'scripted',
    modelId: SCRIPTED_MODEL_ID,
    supportedUrls: {},
    get stepCount() {
      return steps.length;
    },
    get stepsPlayed() {
      return stepsPlayed;
    },

    async doGenerate(callOptions): Promise<LanguageModelV4GenerateResult> {
      const { step, number } = await takeStep(callOptions);
      const content: LanguageModelV4Content[] = [];
      if (step.text !== undefined) content.push({ type: 'text', text: step.text });
      for (const toolCall of toolCallsOf(step, number)) content.push(toolCall);
      return {
        content,
        finishReason: finishReasonOf(step),
        usage: usageOf(step, callOptions),
        response: {
          id: `scripted-step-${number}`,
          modelId: SCRIPTED_MODEL_ID,
          timestamp: new Date(clock.now()),
        },
        warnings: [],
      };
    },

    async doStream(callOptions): Promise<LanguageModelV4StreamResult> {
      const { step, number } = await takeStep(callOptions);
      const parts: LanguageModelV4StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        {
          type: 'response-metadata',
          id: `scripted-step-${number}`,
          modelId: SCRIPTED_MODEL_ID,
          timestamp: new Date(clock.now()),
        },
      ];
      if (step.text !== undefined) {
        const id = `scripted-text-${number}`;
        parts.push({ type: 'text-start', id });
        // Word-sized deltas, so consumers see a stream as they would from a real model.
        for (const delta of step.text.match(/\S+\s*|\s+/g) ?? [])
          parts.push({ type: 'text-delta', id, delta });
        parts.push({ type: 'text-end', id });
      }
      for (const toolCall of toolCallsOf(step, number)) {
        parts.push({ type: 'tool-input-start', id: toolCall.toolCallId, toolName: toolCall.toolName });
        parts.push({ type: 'tool-input-delta', id: toolCall.toolCallId, delta: toolCall.input });
        parts.push({ type: 'tool-input-end', id: toolCall.toolCallId });
        parts.push(toolCall);
      }
      parts.push({ type: 'finish', usage: usageOf(step, callOptions), finishReason: finishReasonOf(step) });
      return { stream: streamOf(parts) };
    },
  };
}

function toolCallsOf(step: ScriptedStep, stepNumber: number) {
  return step.toolCalls.map((toolCall, index) => ({
    type: 'tool-call' as const,
    toolCallId: toolCall.toolCallId ?? `scripted-call-${stepNumber}-${index + 1}`,
    toolName: toolCall.toolName,
    input: JSON.stringify(toolCall.input),
  }));
}

function finishReasonOf(step: ScriptedStep): LanguageModelV4FinishReason {
  return step.toolCalls.length > 0
    ? { unified: 'tool-calls', raw: 'tool_calls' }
    : { unified: 'stop', raw: 'stop' };
}

/** Scripted usage when given; otherwise about four characters a token, so demos show real-looking counts. */
function usageOf(step: ScriptedStep, callOptions: LanguageModelV4CallOptions): LanguageModelV4Usage {
  const estimatedOutput =
    (step.text ?? '') + step.toolCalls.map((toolCall) => JSON.stringify(toolCall.input)).join('');
  const usage = step.usage ?? {
    inputTokens: Math.ceil(JSON.stringify(callOptions.prompt).length / 4),
    outputTokens: Math.ceil(estimatedOutput.length / 4),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
  return {
    inputTokens: {
      total: usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
      noCache: usage.inputTokens,
      cacheRead: usage.cacheReadTokens,
      cacheWrite: usage.cacheWriteTokens,
    },
    outputTokens: { total: usage.outputTokens, text: usage.outputTokens, reasoning: 0 },
  };
}

/** The same error type the HTTP providers throw, so failure classification treats both alike. */
function scriptedFailure(failure: NonNullable<ScriptedStep['failure']>, stepNumber: number): APICallError {
  const message = failure.message ?? `scripted failure (HTTP ${failure.statusCode}) at step ${stepNumber}`;
  return new APICallError({
    message,
    url: 'scripted://model',
    requestBodyValues: {},
    statusCode: failure.statusCode,
    responseHeaders: Object.fromEntries(
      Object.entries(failure.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    responseBody: JSON.stringify({ error: { message } }),
  });
}

function streamOf(parts: LanguageModelV4StreamPart[]): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}
