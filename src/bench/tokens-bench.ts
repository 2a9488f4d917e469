import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModelV4Message } from '@ai-sdk/provider';
import { startFakeAnthropicServer } from '../../test/fakes/fake-anthropic-server.ts';
import { type FakeReply, fakeReply } from '../../test/fakes/fake-reply.ts';
import { findAgentType, readRolePrompt } from '../agents/index.ts';
import { systemClock } from '../clock/index.ts';
import type { NewEvent } from '../events/index.ts';
import { classifyModelFailure, createApiLanguageModel, priceUsage } from '../providers/index.ts';
import { buildSystemPrompt, runAgentLoop, type ToolCallRequest, type ToolOutcome } from '../runtime/index.ts';
import { toolsForNames } from '../tools/index.ts';
import { describeEnvironment } from './bench-environment.ts';
import { roundTo } from './timing.ts';

const STEPS = 20;
const TARGET_CACHE_READ_SHARE = 0.8;
const AGENT_TYPE = 'eng-backend';
const API_KEY = 'sk-ant-bench-tokens';

/** The 19 working steps of the scripted task (read, write, test, in turn), then task_complete. */
function scriptedReplies(): FakeReply[] {
  const replies: FakeReply[] = [];
  for (let step = 1; step < STEPS; step += 1) {
    const file = `src/module-${Math.ceil(step / 3)}.ts`;
    const call =
      step % 3 === 1
        ? fakeReply.toolCall('read_file', { path: file }, { text: `Reading ${file} first.` })
        : step % 3 === 2
          ? fakeReply.toolCall('write_file', {
              path: file,
              content: `export const step = ${step};\n`.repeat(20),
            })
          : fakeReply.toolCall('run_command', { command: 'npm test' }, { text: 'Running the tests.' });
    replies.push(call);
  }
  replies.push(
    fakeReply.toolCall('task_complete', {
      summary: 'implemented the modules',
      files_changed: ['src/module-1.ts'],
      tests_run: ['npm test'],
    }),
  );
  return replies;
}

/** Deterministic tool results of realistic size: a source file, a write receipt, a test run. */
function scriptedToolOutcome(call: ToolCallRequest): ToolOutcome {
  const input = call.input as { path?: string };
  switch (call.toolName) {
    case 'read_file':
      return {
        isError: false,
        output: `// ${input.path}\n${'export function handler() { return 42; }\n'.repeat(60)}`,
      };
    case 'write_file':
      return { isError: false, output: `wrote ${input.path}` };
    case 'run_command':
      return {
        isError: false,
        output: `exit 0\n${' ✓ handler returns 42 (3 ms)\n'.repeat(40)}Tests: 40 passed`,
      };
    default:
      return {
        isError: false,
        output: 'ok',
        completion: { summary: 'implemented the modules', filesChanged: [], testsRun: [] },
      };
  }
}

/**
 * How much of a long API task's prompt comes from Anthropic's prompt cache: a 20-step task of the
 * backend engineer (its real role prompt and tools) through Loki's tool loop and the real
 * @ai-sdk/anthropic provider, against the fake Messages API, which bills cache reads and writes by
 * the documented rules. Cost without caching prices the same prompts as plain input.
 */
export async function runTokensBenchmark(repositoryRoot: string): Promise<void> {
  await using server = await startFakeAnthropicServer({ expectedApiKey: API_KEY });
  server.enqueue(...scriptedReplies());
  const { model, modelId } = createApiLanguageModel({
    provider: 'anthropic',
    tier: 'default',
    env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: server.baseUrl },
  });
  const events: NewEvent[] = [];
  const messages: LanguageModelV4Message[] = [
    { role: 'user', content: [{ type: 'text', text: 'GOAL: implement the handler modules and test them.' }] },
  ];
  const result = await runAgentLoop({
    model,
    provider: 'anthropic',
    system: buildSystemPrompt(readRolePrompt(AGENT_TYPE)),
    messages,
    tools: toolsForNames(findAgentType(AGENT_TYPE).tools),
    executeTool: async (call) => scriptedToolOutcome(call),
    price: (pricedModelId, usage) => priceUsage(pricedModelId, usage),
    maxSteps: STEPS,
    retry: {
      settings: { maxRetries: 0, baseWaitMilliseconds: 1, maxWaitMilliseconds: 1 },
      classify: (error) => classifyModelFailure(error, { clock: systemClock }),
      breakers: [],
      random: () => 0,
      clock: systemClock,
      sleep: async () => {},
    },
    emit: (event) => events.push(event),
    runId: null,
    taskId: 'bench-tokens',
  });
  if (result.reason !== 'task_complete' || result.steps !== STEPS) {
    throw new Error(`the tokens benchmark's task ended with ${result.reason} after ${result.steps} steps`);
  }

  const calls = events.flatMap((event) => (event.type === 'usage.recorded' ? [event.data] : []));
  const usage = result.usage;
  const promptTokens = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  const cacheReadShare = usage.cacheReadTokens / promptTokens;
  const costWithoutCachingUsd = calls.reduce(
    (sum, call) =>
      sum +
      priceUsage(call.model, {
        inputTokens: call.inputTokens + call.cacheReadTokens + call.cacheWriteTokens,
        outputTokens: call.outputTokens,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      }).costUsd,
    0,
  );
  const report = {
    benchmark: 'tokens',
    date: new Date().toISOString(),
    environment: describeEnvironment(),
    method:
      `a ${STEPS}-step scripted ${AGENT_TYPE} task through runAgentLoop and the real @ai-sdk/anthropic ` +
      `provider (${modelId}) against the fake Anthropic Messages API, which applies the documented ` +
      'prompt-cache rules to cache_control breakpoints (tokens estimated at 4 characters each); ' +
      'cost without caching prices every prompt token as uncached input',
    measurements: {
      modelCalls: usage.modelCalls,
      inputTokens: usage.inputTokens,
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      outputTokens: usage.outputTokens,
      promptTokens,
      cacheReadShare: roundTo(cacheReadShare, 4),
      costUsd: roundTo(usage.costUsd, 6),
      costWithoutCachingUsd: roundTo(costWithoutCachingUsd, 6),
      perCall: calls.map(({ inputTokens, cacheReadTokens, cacheWriteTokens, outputTokens }) => ({
        inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        outputTokens,
      })),
      target: { minimumCacheReadShare: TARGET_CACHE_READ_SHARE },
      pass: cacheReadShare >= TARGET_CACHE_READ_SHARE,
    },
  };
  const resultsDirectory = join(repositoryRoot, 'bench', 'results');
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(join(resultsDirectory, 'tokens.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `tokens: ${roundTo(cacheReadShare * 100, 1)} % of ${promptTokens} prompt tokens read from cache ` +
      `(target ≥ ${TARGET_CACHE_READ_SHARE * 100} %) ${report.measurements.pass ? 'pass' : 'MISSED'}; ` +
      `cost $${report.measurements.costUsd} vs $${report.measurements.costWithoutCachingUsd} without caching\n` +
      'written to bench/results/tokens.json\n',
  );
}
