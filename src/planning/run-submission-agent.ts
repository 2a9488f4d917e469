import type { LanguageModelV4 } from '@ai-sdk/provider';
import { priceUsage } from '../providers/index.ts';
import { type AgentLoopOptions, runAgentLoop, type ToolOutcome } from '../runtime/index.ts';
import { SubmissionJudge } from './submission-judge.ts';
import type { SubmissionRunOptions, SubmissionSpec } from './submission-spec.ts';

export interface SubmissionAgentOptions extends SubmissionRunOptions {
  model: LanguageModelV4;
  provider: string;
  price?: AgentLoopOptions['price'];
}

const DEFAULT_MAX_STEPS = 8;

/**
 * A planning agent under Loki's own tool loop: the model hands in one validated document through
 * one tool, judged by a SubmissionJudge (repair rounds, then failure).
 */
export async function runSubmissionAgent<T>(
  spec: SubmissionSpec<T>,
  options: SubmissionAgentOptions,
): Promise<T> {
  const judge = new SubmissionJudge(spec, options.maxRepairRounds);
  // Aborted by the phase itself when the repair rounds run out, so the loop stops before another call.
  const stopController = new AbortController();
  const signal =
    options.signal === undefined
      ? stopController.signal
      : AbortSignal.any([options.signal, stopController.signal]);

  const executeTool = async (call: { toolName: string; input: unknown }): Promise<ToolOutcome> => {
    if (call.toolName !== spec.toolName) {
      return { isError: true, output: `unknown tool "${call.toolName}": the only tool is ${spec.toolName}` };
    }
    const verdict = judge.judge(call.input);
    if (judge.isExhausted) stopController.abort(new Error(`${spec.phase} repair rounds exhausted`));
    if (verdict.summary === null) return { isError: true, output: verdict.output };
    return {
      isError: false,
      output: verdict.output,
      completion: { summary: verdict.summary, filesChanged: [], testsRun: [] },
    };
  };

  const result = await runAgentLoop({
    model: options.model,
    provider: options.provider,
    system: spec.system,
    messages: [{ role: 'user', content: [{ type: 'text', text: spec.prompt }] }],
    tools: [{ name: spec.toolName, description: spec.toolDescription, inputSchema: spec.inputSchema }],
    executeTool,
    price: options.price ?? ((modelId, usage) => priceUsage(modelId, usage)),
    maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
    retry: options.retry,
    emit: options.emit,
    runId: options.runId,
    taskId: null,
    signal,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  });
  return judge.outcome({
    reason: result.reason,
    steps: result.steps,
    wasStopped: options.signal?.aborted === true,
  });
}
