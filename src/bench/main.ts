/**
 * `npm run bench -- <name>`: runs one benchmark and writes bench/results/<name>.json. Benchmarks
 * measure; they exit 0 even when a target is missed (the summary says so). Unknown name → exit 2.
 */
import { join } from 'node:path';
import { runDashboardBenchmark } from './dashboard-bench.ts';
import { runDeployBenchmark } from './deploy-bench.ts';
import { runDistributedBenchmark } from './distributed-bench.ts';
import { runOrchestrationBenchmark } from './orchestration-bench.ts';
import { runPostgresQueueBenchmark } from './postgres-queue-bench.ts';
import { runQueueBenchmark } from './queue-bench.ts';
import { runRuntimeBenchmark } from './runtime-bench.ts';
import { runTokensBenchmark } from './tokens-bench.ts';

interface BenchOptions {
  /** `--store postgres`: the benchmark's PostgreSQL variant, where it has one. */
  store: 'sqlite' | 'postgres';
}

interface Benchmark {
  description: string;
  run: (repositoryRoot: string, options: BenchOptions) => Promise<void>;
}

const BENCHMARKS = new Map<string, Benchmark>([
  [
    'queue',
    {
      description:
        'claim+complete throughput vs bare node:sqlite, loki --version startup, loki status on 10k tasks; ' +
        'with --store postgres: 8 worker processes on PostgreSQL (LOKI_STORE_URL, or a throwaway server) vs the bare SKIP LOCKED floor',
      run: (repositoryRoot, options) =>
        options.store === 'postgres'
          ? runPostgresQueueBenchmark(repositoryRoot)
          : runQueueBenchmark(repositoryRoot),
    },
  ],
  [
    'runtime',
    {
      description:
        'agent tool-loop overhead per model call (scripted model, events persisted), model latency excluded',
      run: runRuntimeBenchmark,
    },
  ],
  [
    'orchestration',
    {
      description:
        'loki run on 100 scripted tasks (3 calls × 200 ms, --parallel 10): wall vs ideal, overhead per task vs bare git, peak RSS',
      run: runOrchestrationBenchmark,
    },
  ],
  [
    'tokens',
    {
      description:
        'share of prompt tokens read from the Anthropic prompt cache over a 20-step task (fake Messages API), cost with and without caching',
      run: runTokensBenchmark,
    },
  ],
  [
    'dashboard',
    {
      description:
        'dashboard in Chromium: first render with 1,000 tasks and 50,000 events, event → DOM p95 at 200 events/s, CPU the server adds to a run',
      run: runDashboardBenchmark,
    },
  ],
  [
    'distributed',
    {
      description:
        'loki run --store --repo with 1 and with 3 loki worker processes (PostgreSQL, a bare remote): 21 scripted tasks, development and run time, the speed-up',
      run: runDistributedBenchmark,
    },
  ],
  [
    'deploy',
    {
      description:
        'loki rollback on the local target, v1 and v2 warm, 10 switches: process wall and time until the proxy serves the other version (target < 1 s), failed requests under a light load',
      run: runDeployBenchmark,
    },
  ],
]);

const repositoryRoot = join(import.meta.dirname, '..', '..');
const name = process.argv[2];
const benchmark = name === undefined ? undefined : BENCHMARKS.get(name);
const rest = process.argv.slice(3);
const storeIndex = rest.indexOf('--store');
const storeValue = storeIndex === -1 ? 'sqlite' : rest[storeIndex + 1];

if (storeValue !== 'sqlite' && storeValue !== 'postgres') {
  process.stderr.write(`--store takes sqlite or postgres, got ${String(storeValue)}\n`);
  process.exitCode = 2;
} else if (benchmark === undefined) {
  const available = [...BENCHMARKS].map(
    ([benchmarkName, { description }]) => `  ${benchmarkName}  ${description}`,
  );
  process.stderr.write(
    `${name === undefined ? 'which benchmark?' : `unknown benchmark "${name}"`}\n` +
      `usage: npm run bench -- <name>\navailable:\n${available.join('\n')}\n`,
  );
  process.exitCode = 2;
} else {
  await benchmark.run(repositoryRoot, { store: storeValue });
}
