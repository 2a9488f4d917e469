import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coordinatorClone,
  prepareDistributedRun,
  remoteMergedTaskIds,
  workerDirectory,
} from '../../test/support/distributed-fixture.ts';
import { findPostgresBinaries, PostgresServer } from '../../test/support/postgres-server.ts';
import type { LokiEvent } from '../events/index.ts';
import { PostgresStore } from '../store/index.ts';
import { type BenchEnvironment, describeEnvironment } from './bench-environment.ts';
import { measureRemoteGitCost, type RemoteGitCost } from './distributed-git-cost.ts';
import { analyzeDistributedEvents, type DistributedTimings } from './distributed-timings.ts';
import type { SessionTask } from './generated-session.ts';
import { buildCli } from './orchestration-bench.ts';
import { type LokiProcessResult, runLokiProcess } from './run-loki-process.ts';
import { roundTo } from './timing.ts';

const TASKS = 21;
/** One write_file, then task_complete: two model calls per task, each answered after this long. */
const LATENCY_MILLISECONDS = 4000;
const COORDINATOR_PARALLEL = 1;
const WORKER_PARALLEL = 2;
const WORKER_COUNTS = [1, 3] as const;

interface DistributedArm {
  workers: number;
  /** Agents at once: the coordinator's and every worker's. */
  agentSlots: number;
  /** From the coordinator's start to its exit (the run planned, worked, merged, verified). */
  wallSeconds: number;
  /** From the first task claimed to the last task completed (merged): the part workers share. */
  developmentSeconds: number;
  /** Every task on the remote's main exactly once. */
  mergedOnce: boolean;
  exitCode: number | null;
  loadAverageAtStart: number;
  /** Where each task's time went, and the idle gaps of workers and coordinator. */
  timings: DistributedTimings;
}

interface DistributedReport {
  benchmark: 'distributed';
  date: string;
  environment: BenchEnvironment;
  workload: {
    tasks: number;
    modelCallsPerTask: number;
    latencyMilliseconds: number;
    coordinatorParallel: number;
    workerParallel: number;
  };
  /** The remote git steps alone (before the arms, load at the time in `loadAverage`). */
  remoteGit: RemoteGitCost & { loadAverage: number };
  arms: DistributedArm[];
  /** Development time with one worker over development time with three. */
  speedUp: number | null;
  /** The same for the whole run, planning and the QA and Deployment gates included. */
  wallSpeedUp: number | null;
  notes: string[];
}

/**
 * `loki run --store --repo` with `loki worker` processes, as several machines would run it (here all
 * on one machine, each process in its own clone of a bare remote, one PostgreSQL server): the same
 * scripted run of independent tasks with one worker and with three, and the speed-up between them.
 */
export async function runDistributedBenchmark(repositoryRoot: string): Promise<void> {
  const binaries = findPostgresBinaries();
  if ('missing' in binaries) throw new Error(binaries.missing);
  buildCli(repositoryRoot);
  const directory = mkdtempSync(join(tmpdir(), 'loki-bench-distributed-'));
  const server = await PostgresServer.start(binaries.directory);
  try {
    const remoteGit = {
      ...(await measureRemoteGitCost(join(directory, 'git-cost'))),
      loadAverage: roundTo(loadavg()[0] ?? Number.NaN, 2),
    };
    const arms: DistributedArm[] = [];
    for (const workers of WORKER_COUNTS) {
      log(
        `${TASKS} tasks, a coordinator (--parallel ${COORDINATOR_PARALLEL}) and ${workers} worker(s) (--parallel ${WORKER_PARALLEL})`,
      );
      const url = await server.createDatabase('bench');
      arms.push(await runArm(repositoryRoot, join(directory, `workers-${workers}`), url, workers));
    }
    const [one, three] = arms;
    const report: DistributedReport = {
      benchmark: 'distributed',
      date: new Date().toISOString(),
      environment: describeEnvironment(directory),
      workload: {
        tasks: TASKS,
        modelCallsPerTask: 2,
        latencyMilliseconds: LATENCY_MILLISECONDS,
        coordinatorParallel: COORDINATOR_PARALLEL,
        workerParallel: WORKER_PARALLEL,
      },
      remoteGit,
      arms,
      speedUp: ratio(one?.developmentSeconds, three?.developmentSeconds),
      wallSpeedUp: ratio(one?.wallSeconds, three?.wallSeconds),
      notes: [
        'All processes share this machine: with several workers they also share its CPUs, which a real deployment on several machines would not.',
        'The coordinator decides the requests that waited together as one batch (one fetch, one merge-queue batch, one push of main); a worker frees its agent slot once its change is verified, and waits for the decision off the slot.',
        'Phases per task are medians over the merged tasks, from the timestamps of the events of their last claim (see src/bench/distributed-timings.ts).',
      ],
    };
    const resultsDirectory = join(repositoryRoot, 'bench', 'results');
    mkdirSync(resultsDirectory, { recursive: true });
    const resultPath = join(resultsDirectory, 'distributed.json');
    writeFileSync(resultPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${summarize(report)}\nwritten to ${resultPath}\n`);
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function runArm(
  repositoryRoot: string,
  root: string,
  url: string,
  workers: number,
): Promise<DistributedArm> {
  mkdirSync(root, { recursive: true });
  const home = join(root, 'home');
  mkdirSync(home);
  const tasks: SessionTask[] = Array.from({ length: TASKS }, (_, index) => {
    const id = `t${String(index + 1).padStart(2, '0')}`;
    return { id, files: { [`files/${id}.txt`]: `the work of ${id}\n` } };
  });
  const fixture = prepareDistributedRun(root, { tasks, latencyMilliseconds: LATENCY_MILLISECONDS });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    // The load average of a machine running every "machine" at once is not any one worker's.
    LOKI_FOLLOW_MACHINE_LOAD: 'false',
  };
  const loki = join(repositoryRoot, 'bin', 'loki.js');
  const shared = ['--store', url, '--repo', fixture.remote];
  const loadAverageAtStart = roundTo(loadavg()[0] ?? Number.NaN, 2);
  const coordinator = runLokiProcess(
    [
      loki,
      'run',
      'prd.md',
      ...shared,
      '--provider',
      'scripted',
      '--script',
      fixture.sessionPath,
      '--parallel',
      String(COORDINATOR_PARALLEL),
      '--no-dashboard',
      '--no-deploy',
    ],
    { cwd: coordinatorClone(root, fixture, 'coordinator'), env },
  );
  const workerRuns: Promise<LokiProcessResult>[] = [];
  for (let index = 0; index < workers; index += 1) {
    const dir = workerDirectory(root, `worker-${index + 1}`);
    workerRuns.push(
      runLokiProcess([loki, 'worker', ...shared, '--dir', dir, '--parallel', String(WORKER_PARALLEL)], {
        cwd: root,
        env,
      }),
    );
  }
  const run = await coordinator;
  const ended = await Promise.all(workerRuns);
  if (run.exitCode !== 0 || ended.some((worker) => worker.exitCode !== 0)) {
    const outputs = [run, ...ended].map((each) => `${each.stdout}\n${each.stderr}`.slice(-2000));
    throw new Error(`the distributed run did not complete:\n${outputs.join('\n---\n')}`);
  }
  const merged = remoteMergedTaskIds(fixture.remote);
  await using store = await PostgresStore.open(url);
  const events = await store.listEvents({});
  // For a closer look than the breakdown: each arm's whole event log, where LOKI_BENCH_EVENTS_DIR says.
  if (process.env.LOKI_BENCH_EVENTS_DIR !== undefined) {
    writeFileSync(join(process.env.LOKI_BENCH_EVENTS_DIR, `events-${workers}.json`), JSON.stringify(events));
  }
  const developmentSeconds = developmentSecondsOf(events);
  return {
    workers,
    agentSlots: COORDINATOR_PARALLEL + workers * WORKER_PARALLEL,
    wallSeconds: roundTo(run.wallMilliseconds / 1000, 1),
    developmentSeconds,
    mergedOnce: merged.length === TASKS && new Set(merged).size === TASKS,
    exitCode: run.exitCode,
    loadAverageAtStart,
    timings: analyzeDistributedEvents(events),
  };
}

/** First task.claimed to last task.completed, from the shared store's event log. */
function developmentSecondsOf(events: readonly LokiEvent[]): number {
  const claimed = events.filter((event) => event.type === 'task.claimed').map((event) => event.createdAt);
  const completed = events.filter((event) => event.type === 'task.completed').map((event) => event.createdAt);
  if (claimed.length === 0 || completed.length === 0) return Number.NaN;
  return roundTo((Math.max(...completed) - Math.min(...claimed)) / 1000, 1);
}

function ratio(slower: number | undefined, faster: number | undefined): number | null {
  if (slower === undefined || faster === undefined || !(faster > 0)) return null;
  return roundTo(slower / faster, 2);
}

function summarize(report: DistributedReport): string {
  const lines = report.arms.flatMap((arm) => {
    const phases = arm.timings.medianMilliseconds;
    const coordinator = arm.timings.coordinator;
    return [
      `  ${arm.workers} worker(s), ${arm.agentSlots} agents: development ${arm.developmentSeconds} s, whole run ${arm.wallSeconds} s (every task merged once: ${arm.mergedOnce ? 'yes' : 'NO'}; load ${arm.loadAverageAtStart} at start)`,
      `    median per task (ms): set-up ${phases.setUp}, agent ${phases.agent}, verification ${phases.verification}, hand-off ${phases.handOff}, decision ${phases.decision}, completion ${phases.completion}; claim to completed ${phases.total}`,
      `    slot refilled after ${arm.timings.medianRefillMilliseconds ?? 'n/a'} ms (median); coordinator busy ${Math.round(coordinator.busyShare * 100)}% of development, at most ${coordinator.mostUndecided} requests undecided, a decision every ${coordinator.medianDecisionIntervalMilliseconds ?? 'n/a'} ms (median)`,
    ];
  });
  const git = report.remoteGit;
  return [
    `distributed: ${report.workload.tasks} tasks × ${report.workload.modelCallsPerTask} calls × ${report.workload.latencyMilliseconds} ms`,
    `  remote git alone (ms, median of ${git.samples}, load ${git.loadAverage}): ls-remote ${git.lsRemote}, fetch ${git.fetch}, push of a task branch ${git.pushTaskBranch}, push of main ${git.pushMain}`,
    ...lines,
    `  speed-up with 3 workers over 1: ${report.speedUp ?? 'n/a'}× in development, ${report.wallSpeedUp ?? 'n/a'}× for the whole run`,
  ].join('\n');
}

function log(message: string): void {
  process.stderr.write(`… ${message}\n`);
}
