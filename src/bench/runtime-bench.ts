import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ManualClock } from '../clock/index.ts';
import { classifyModelFailure, createScriptedLanguageModel, priceUsage } from '../providers/index.ts';
import { runAgentLoop } from '../runtime/index.ts';
import { SqliteStore } from '../store/index.ts';
import { describeEnvironment } from './bench-environment.ts';
import { median, roundTo } from './timing.ts';

const STEPS = 300;
const RUNS = 5;
const TARGET_MEDIAN_MILLISECONDS = 5;

/**
 * The agent runtime's own cost per model call: the tool loop with the scripted model at zero
 * latency (so model time is excluded), a no-op tool, and every event persisted to a real SQLite
 * store as in production. Overhead per call = (wall − tool time) / calls.
 */
export async function runRuntimeBenchmark(repositoryRoot: string): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'loki-bench-runtime-'));
  const perCall: number[] = [];
  try {
    for (let run = 1; run <= RUNS; run += 1) {
      await using store = await SqliteStore.open(join(directory, `run-${run}.db`));
      const pending: Array<Promise<unknown>> = [];
      const steps = [
        ...Array.from({ length: STEPS - 1 }, (_, index) => ({
          text: `step ${index}`,
          toolCalls: [{ toolName: 'noop', input: { index } }],
          usage: { inputTokens: 1000 + index, outputTokens: 50 },
        })),
        { toolCalls: [{ toolName: 'task_complete', input: { summary: 'done' } }] },
      ];
      const clock = new ManualClock();
      const started = performance.now();
      const result = await runAgentLoop({
        model: createScriptedLanguageModel(steps),
        provider: 'scripted',
        system: 'benchmark',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'go' }] }],
        tools: [
          { name: 'noop', description: 'does nothing', inputSchema: z.object({ index: z.number() }) },
          { name: 'task_complete', description: 'done', inputSchema: z.object({ summary: z.string() }) },
        ],
        executeTool: async (call) =>
          call.toolName === 'task_complete'
            ? {
                isError: false,
                output: 'ok',
                completion: { summary: 'done', filesChanged: [], testsRun: [] },
              }
            : { isError: false, output: 'ok' },
        price: (modelId, usage) => priceUsage(modelId, usage),
        maxSteps: STEPS + 1,
        retry: {
          settings: { maxRetries: 0, baseWaitMilliseconds: 1, maxWaitMilliseconds: 1 },
          classify: (error) => classifyModelFailure(error, { clock }),
          breakers: [],
          random: () => 0,
          clock,
          sleep: async () => {},
        },
        emit: (event) => pending.push(store.appendEvent(event)),
        runId: null,
        taskId: 'bench',
      });
      await Promise.all(pending);
      const wall = performance.now() - started;
      if (result.reason !== 'task_complete') throw new Error(`benchmark loop ended with ${result.reason}`);
      perCall.push((wall - result.toolMilliseconds) / result.usage.modelCalls);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const medianMilliseconds = roundTo(median(perCall), 3);
  const report = {
    benchmark: 'runtime',
    date: new Date().toISOString(),
    environment: describeEnvironment(),
    method:
      'runAgentLoop over the scripted model (zero latency) with a no-op tool, every event appended to a real SQLite store; ' +
      `${STEPS} model calls per run, ${RUNS} runs; overhead per call = (wall − tool time) / calls`,
    measurements: {
      overheadPerModelCall: {
        medianMilliseconds,
        runsMilliseconds: perCall.map((value) => roundTo(value, 3)),
        target: { maximumMedianMilliseconds: TARGET_MEDIAN_MILLISECONDS },
        pass: medianMilliseconds < TARGET_MEDIAN_MILLISECONDS,
      },
    },
  };
  const resultsDirectory = join(repositoryRoot, 'bench', 'results');
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(join(resultsDirectory, 'runtime.json'), `${JSON.stringify(report, null, 2)}\n`);
  const verdict = report.measurements.overheadPerModelCall.pass ? 'pass' : 'MISSED';
  process.stdout.write(
    `runtime overhead per model call: median ${medianMilliseconds} ms (target < ${TARGET_MEDIAN_MILLISECONDS} ms) ${verdict}\n` +
      'written to bench/results/runtime.json\n',
  );
}
