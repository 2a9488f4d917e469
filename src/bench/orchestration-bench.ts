import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LokiEvent } from '../events/index.ts';
import { type BenchEnvironment, describeEnvironment, fileSystemOf } from './bench-environment.ts';
import { type BareGitCost, measureBareGitCost } from './bare-git-cost.ts';
import { buildSession, type SessionTask } from './generated-session.ts';
import { analyzeRunEvents, type OrchestrationTimings } from './orchestration-timings.ts';
import { type LokiProcessResult, runLokiProcess } from './run-loki-process.ts';
import { roundTo } from './timing.ts';

const TASKS = 100;
const FILES_PER_TASK = 2;
/** One write_file per file, then task_complete: three model calls per task. */
const MODEL_CALLS_PER_TASK = FILES_PER_TASK + 1;
const LATENCY_MILLISECONDS = 200;
const CONCURRENCY = 10;
const BARE_GIT_TASKS = 20;
/** The overhead pass: the same tasks one at a time, measured like the bare git floor. */
const SEQUENTIAL_TASKS = 20;

export const ORCHESTRATION_TARGETS = {
  maximumWallToIdealRatio: 1.25,
  maximumOverheadToBareGitRatio: 1.5,
  maximumPeakRssMegabytes: 300,
};

/**
 * `loki run` end to end as a user runs it (a real process on the built CLI, worktrees, verification
 * in the sandbox, the merge queue) on 100 independent tasks whose scripted model answers every call
 * after 200 ms, 10 agents at once; and, in the same run, the bare cost of the git work one task needs.
 */
export async function runOrchestrationBenchmark(repositoryRoot: string): Promise<void> {
  const parent = benchDirectoryParent();
  const environment = describeEnvironment(parent);
  const loadAverageAtStart = loadAverageNow();
  log('building dist/ (the CLI runs the compiled code)');
  buildCli(repositoryRoot);
  const directory = mkdtempSync(join(parent, 'loki-bench-orchestration-'));
  try {
    const home = join(directory, 'home');
    mkdirSync(home);
    // Its own HOME: the user's git configuration (hooks, signing, fsmonitor) must not change the figures.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' };

    // The bare git floor is measured before and after the runs (the disk's state differs: a run
    // leaves write-back behind), and the mean of both is the figure the overhead is held against.
    log(`bare git: ${BARE_GIT_TASKS} tasks, one after another (before the runs)`);
    const bareGitBefore = await measureBareGitCost(join(directory, 'bare-git-before'), {
      tasks: BARE_GIT_TASKS,
      filesOnMain: TASKS * FILES_PER_TASK,
      env,
    });

    log(
      `loki run: ${SEQUENTIAL_TASKS} tasks × ${MODEL_CALLS_PER_TASK} calls × ${LATENCY_MILLISECONDS} ms, --parallel 1 (overhead per task)`,
    );
    const sequential = await runBenchWorkload(repositoryRoot, join(directory, 'sequential'), {
      tasks: SEQUENTIAL_TASKS,
      concurrency: 1,
      env,
    });

    log(
      `loki run: ${TASKS} tasks × ${MODEL_CALLS_PER_TASK} calls × ${LATENCY_MILLISECONDS} ms, --parallel ${CONCURRENCY}`,
    );
    const parallel = await runBenchWorkload(repositoryRoot, join(directory, 'parallel'), {
      tasks: TASKS,
      concurrency: CONCURRENCY,
      env,
    });
    // LOKI_BENCH_EVENTS=<file> keeps the parallel run's NDJSON events, to look at one task's timeline.
    if (process.env.LOKI_BENCH_EVENTS) writeFileSync(process.env.LOKI_BENCH_EVENTS, parallel.run.stdout);

    log(`bare git: ${BARE_GIT_TASKS} tasks, one after another (after the runs)`);
    const bareGitAfter = await measureBareGitCost(join(directory, 'bare-git-after'), {
      tasks: BARE_GIT_TASKS,
      filesOnMain: TASKS * FILES_PER_TASK,
      env,
    });

    const report = buildReport({
      environment,
      parallel,
      sequential,
      bareGit: [bareGitBefore, bareGitAfter],
      loadAverage: { atStart: loadAverageAtStart, atEnd: loadAverageNow() },
    });
    const resultsDirectory = join(repositoryRoot, 'bench', 'results');
    mkdirSync(resultsDirectory, { recursive: true });
    const resultPath = join(resultsDirectory, 'orchestration.json');
    writeFileSync(resultPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${summarize(report)}\nwritten to ${resultPath}\n`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Where the bench works: LOKI_BENCH_DIRECTORY when set, else /dev/shm when it is a tmpfs (the issue's
 * floor of ~80 ms of git per task is a tmpfs figure; on this machine's disks git alone needs more
 * CPU per task than two cores can give ten agents), else the system temp directory. The file
 * system is recorded with the results.
 */
function benchDirectoryParent(): string {
  const chosen = process.env.LOKI_BENCH_DIRECTORY;
  if (chosen !== undefined && chosen !== '') return chosen;
  if (fileSystemOf('/dev/shm') === 'tmpfs' && isWritableDirectory('/dev/shm')) return '/dev/shm';
  return tmpdir();
}

function isWritableDirectory(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

interface WorkloadRun {
  tasks: number;
  concurrency: number;
  run: LokiProcessResult;
  timings: OrchestrationTimings;
}

/** `loki run` of the generated session in a fresh workspace: every task must end merged. */
async function runBenchWorkload(
  repositoryRoot: string,
  workspace: string,
  options: { tasks: number; concurrency: number; env: NodeJS.ProcessEnv },
): Promise<WorkloadRun> {
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'prd.md'), '# Files product\n\nA product made of small text files.\n');
  writeFileSync(join(workspace, 'session.json'), JSON.stringify(buildSession(benchSession(options.tasks))));
  const run = await runLokiProcess(
    [
      join(repositoryRoot, 'bin', 'loki.js'),
      'run',
      'prd.md',
      '--provider',
      'scripted',
      '--script',
      'session.json',
      '--parallel',
      String(options.concurrency),
      '--json',
      // The orchestration alone: the dashboard's own cost is measured by `npm run bench -- dashboard`.
      '--no-dashboard',
    ],
    { cwd: workspace, env: options.env },
  );
  if (run.exitCode !== 0) {
    throw new Error(
      `loki run exited with ${run.exitCode ?? run.signal}:\n${run.stderr.trim()}\n${run.stdout.split('\n').slice(-5).join('\n')}`,
    );
  }
  const timings = analyzeRunEvents(readEvents(run.stdout), LATENCY_MILLISECONDS);
  if (timings.tasksMerged !== options.tasks)
    throw new Error(`only ${timings.tasksMerged} of ${options.tasks} tasks were merged`);
  return { tasks: options.tasks, concurrency: options.concurrency, run, timings };
}

type Report = ReturnType<typeof buildReport>;

function buildReport(input: {
  environment: BenchEnvironment;
  parallel: WorkloadRun;
  sequential: WorkloadRun;
  bareGit: [before: BareGitCost, after: BareGitCost];
  loadAverage: { atStart: number; atEnd: number };
}) {
  const { parallel, sequential } = input;
  const [bareGitBefore, bareGitAfter] = input.bareGit;
  const bareGitPerTask = roundTo(
    (bareGitBefore.meanPerTaskMilliseconds + bareGitAfter.meanPerTaskMilliseconds) / 2,
    1,
  );
  const idealMilliseconds = (TASKS * MODEL_CALLS_PER_TASK * LATENCY_MILLISECONDS) / CONCURRENCY;
  const wallMilliseconds = parallel.timings.developmentWallMilliseconds;
  const ratio = roundTo(wallMilliseconds / idealMilliseconds, 3);
  const overhead = sequential.timings.perTask.overhead;
  const overheadToBareGit = roundTo(overhead.mean / bareGitPerTask, 3);
  const underLoad = parallel.timings.perTask;
  // Agent-slot time per task spent on neither the model nor the task's own verification.
  const slotOverhead = roundTo(
    (CONCURRENCY * wallMilliseconds -
      TASKS * underLoad.model.mean -
      (TASKS * underLoad.verification.mean) / 2) /
      TASKS,
    1,
  );
  const targets = ORCHESTRATION_TARGETS;
  const { run } = parallel;
  return {
    benchmark: 'orchestration' as const,
    date: new Date().toISOString(),
    environment: input.environment,
    /** One-minute load average: anything else running on the machine (another test suite) skews every figure. */
    loadAverage: input.loadAverage,
    method:
      `node bin/loki.js run --provider scripted --parallel <N> --json --no-dashboard in a fresh workspace (temp dir: see environment); ` +
      `independent tasks, each ${FILES_PER_TASK} write_file calls and task_complete ` +
      `(${MODEL_CALLS_PER_TASK} model calls × ${LATENCY_MILLISECONDS} ms), one verify command per task ` +
      '(test -f of its files) run by the sandbox runner in the worktree and again by the merge queue; ' +
      `timings from the NDJSON events (createdAt, stamped when the store appends them). Two runs: ${TASKS} tasks at ` +
      `--parallel ${CONCURRENCY} (wall, latency under load, CPU, memory) and ${SEQUENTIAL_TASKS} tasks at --parallel 1 ` +
      '(overhead per task, measured one task after another like the bare git floor).',
    workload: {
      tasks: TASKS,
      modelCallsPerTask: MODEL_CALLS_PER_TASK,
      latencyMilliseconds: LATENCY_MILLISECONDS,
      concurrency: CONCURRENCY,
      overheadPass: { tasks: SEQUENTIAL_TASKS, concurrency: 1 },
    },
    measurements: {
      wall: {
        idealMilliseconds,
        developmentWallMilliseconds: wallMilliseconds,
        wallToIdealRatio: ratio,
        processWallMilliseconds: Math.round(run.wallMilliseconds),
        phasesMilliseconds: parallel.timings.phasesMilliseconds,
        target: { maximumRatio: targets.maximumWallToIdealRatio },
        pass: ratio <= targets.maximumWallToIdealRatio,
      },
      overheadPerTask: {
        concurrency: 1,
        tasks: SEQUENTIAL_TASKS,
        milliseconds: overhead,
        bareGitPerTaskMilliseconds: bareGitPerTask,
        meanToBareGitRatio: overheadToBareGit,
        claimToMergedMilliseconds: sequential.timings.perTask.claimToMerged,
        modelMilliseconds: sequential.timings.perTask.model,
        verificationMilliseconds: sequential.timings.perTask.verification,
        parts: sequential.timings.perTask.overheadParts,
        target: { maximumMeanToBareGitRatio: targets.maximumOverheadToBareGitRatio },
        pass: overheadToBareGit <= targets.maximumOverheadToBareGitRatio,
      },
      underLoad: {
        concurrency: CONCURRENCY,
        tasks: TASKS,
        latencyOverheadMilliseconds: underLoad.overhead,
        latencyOverheadToBareGitRatio: roundTo(underLoad.overhead.mean / bareGitPerTask, 3),
        agentSlotOverheadPerTaskMilliseconds: slotOverhead,
        claimToMergedMilliseconds: underLoad.claimToMerged,
        verificationMilliseconds: underLoad.verification,
        parts: underLoad.overheadParts,
        mergeIntervalMilliseconds: parallel.timings.mergeInterval,
      },
      bareGit: { meanPerTaskMilliseconds: bareGitPerTask, before: bareGitBefore, after: bareGitAfter },
      cpu:
        run.cpuSeconds === null
          ? null
          : {
              selfSeconds: run.cpuSeconds.self,
              childrenSeconds: run.cpuSeconds.children,
              perTaskMilliseconds: Math.round(
                ((run.cpuSeconds.self + run.cpuSeconds.children) * 1000) / TASKS,
              ),
              cores: input.environment.cpuCount,
              wallFloorMilliseconds: Math.round(
                ((run.cpuSeconds.self + run.cpuSeconds.children) * 1000) / input.environment.cpuCount,
              ),
            },
      memory: {
        peakRssMegabytes: run.peakRssMegabytes,
        target: { maximumPeakRssMegabytes: targets.maximumPeakRssMegabytes },
        pass: run.peakRssMegabytes !== null && run.peakRssMegabytes <= targets.maximumPeakRssMegabytes,
      },
    },
    notes: [
      `ideal = tasks × model calls per task × latency / concurrency = ${TASKS} × ${MODEL_CALLS_PER_TASK} × ${LATENCY_MILLISECONDS} ms / ${CONCURRENCY}.`,
      'developmentWall = first task.claimed → last merge.completed of the parallel run; processWall = spawn → exit of its loki process ' +
        '(adds start-up, bootstrap, Discovery and Architecture (one scripted call each), the final verification of main and the report).',
      'overhead of a task = its task.claimed → merge.completed minus its model time (model calls counted from ' +
        'usage.recorded × latency) minus its verification time (the verification.ran duration, counted twice because ' +
        'the merge queue re-runs the same command with the same runner and emits no event for it). What is left is ' +
        'the orchestrator: worktree setup, agent loop and tools, git checkpoint, the merge, event writes. ' +
        'Worktree removal comes after merge.completed.',
      `overheadPerTask (the target) is that figure in a run of ${SEQUENTIAL_TASKS} tasks at --parallel 1: the cost ` +
        'one task adds, measured the way the bare git floor is measured (one task after another, nothing else running), ' +
        'so the two compare like for like. It can come out under the bare git cost: Loki creates the worktree while the ' +
        "model works on the task's first step and removes it after the merge, so neither is in the task's latency (both " +
        'still cost CPU, which the cpu figure of the parallel run counts).',
      `underLoad is the same figure in the --parallel ${CONCURRENCY} run, reported and not held to the target: there ` +
        `it is a latency that also holds the wait for CPU (${CONCURRENCY} agents, their tools, verifications, checkpoints ` +
        'and merges share the cores) and the wait for the merge batch ahead (a task waiting for its merge no longer holds ' +
        'an agent slot). agentSlotOverheadPerTask = (concurrency × developmentWall − model time − worktree ' +
        "verification time) / tasks: agent-slot time per task that went to neither the model nor the task's own tests.",
      'parts: claimToAgentStarted = worktree creation and reset; agentOutsideModel = agent loop and tools; ' +
        'verificationToMerged = checkpoint commit, wait in the merge queue and the merge itself (re-verification taken off).',
      'mergeInterval = time between consecutive merge.completed events. Merges that queue up while one runs are ' +
        'merged as one batch (one verification, one move of main), so several complete at once and the mean ' +
        `interval is what matters: ${CONCURRENCY} tasks finishing every ${MODEL_CALLS_PER_TASK * LATENCY_MILLISECONDS} ms need it under ` +
        `${(MODEL_CALLS_PER_TASK * LATENCY_MILLISECONDS) / CONCURRENCY} ms.`,
      'peakRss is VmHWM of the loki process of the parallel run only (git and sandboxed commands are separate processes and not included).',
      'cpu (parallel run): self is the loki Node process, children are git and the sandboxed verify commands it waited for ' +
        '(last /proc sample before exit, so the final few milliseconds are missing); wallFloor = all that CPU ' +
        'spread perfectly over every core: no schedule of this work can finish faster on this machine.',
      'The temp dir is /dev/shm (tmpfs) unless LOKI_BENCH_DIRECTORY names another: the issue quotes the git floor on tmpfs; ' +
        'on a disk git costs several times more and the figures move with it.',
    ],
  };
}

function benchSession(taskCount: number) {
  const tasks: SessionTask[] = Array.from({ length: taskCount }, (_, index) => {
    const id = `task-${String(index + 1).padStart(3, '0')}`;
    const files = Object.fromEntries(
      Array.from({ length: FILES_PER_TASK }, (_, fileIndex) => [
        `src/${id}/part-${fileIndex + 1}.txt`,
        `part ${fileIndex + 1} of ${id}\n`,
      ]),
    );
    return {
      id,
      files,
      verifyCommands: [
        Object.keys(files)
          .map((path) => `test -f '${path}'`)
          .join(' && '),
      ],
      steps: [
        ...Object.entries(files).map(([path, content]) => ({
          toolCalls: [{ toolName: 'write_file', input: { path, content } }],
        })),
        {
          toolCalls: [
            {
              toolName: 'task_complete',
              input: { summary: `wrote ${id}`, files_changed: Object.keys(files), tests_run: [] },
            },
          ],
        },
      ],
    };
  });
  return { tasks, latencyMilliseconds: LATENCY_MILLISECONDS, verifyCommands: ['true'] };
}

/** Always compiles: a stale dist/ would measure code that is no longer in src/. */
/** `npm run build`: the benchmarks run the compiled CLI. */
export function buildCli(repositoryRoot: string): void {
  const compiler = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [compiler, '-p', 'tsconfig.build.json'], {
    cwd: repositoryRoot,
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    throw new Error(
      `"npm run build" failed:\n${`${build.stdout}${build.stderr}`.trim().split('\n').slice(0, 10).join('\n')}`,
    );
  }
}

function readEvents(ndjson: string): LokiEvent[] {
  return ndjson
    .split('\n')
    .filter((line) => line.startsWith('{') && !line.includes('"type":"run.outcome"'))
    .map((line) => JSON.parse(line) as LokiEvent);
}

function verdict(pass: boolean): string {
  return pass ? 'pass' : '*** MISSED ***';
}

function summarize(report: Report): string {
  const { environment, measurements } = report;
  const { wall, overheadPerTask, underLoad, bareGit, memory, cpu } = measurements;
  return [
    '',
    `orchestration benchmark — Node ${environment.nodeVersion}, ${environment.cpuCount} × ${environment.cpuModel}, ` +
      `temp dir on ${environment.temporaryDirectory.fileSystem}, load average ${report.loadAverage.atStart} → ${report.loadAverage.atEnd}`,
    `  wall (claim → last merge) ${wall.developmentWallMilliseconds} ms, ideal ${wall.idealMilliseconds} ms, ` +
      `ratio ${wall.wallToIdealRatio} (target ≤ ${wall.target.maximumRatio})  ${verdict(wall.pass)}`,
    `  whole process             ${wall.processWallMilliseconds} ms`,
    `  overhead per task         mean ${overheadPerTask.milliseconds.mean} ms, p95 ${overheadPerTask.milliseconds.p95} ms ` +
      `(--parallel 1); bare git ${bareGit.meanPerTaskMilliseconds} ms/task → ${overheadPerTask.meanToBareGitRatio} × ` +
      `(target ≤ ${overheadPerTask.target.maximumMeanToBareGitRatio})  ${verdict(overheadPerTask.pass)}`,
    `  under load (--parallel ${underLoad.concurrency})  latency overhead mean ${underLoad.latencyOverheadMilliseconds.mean} ms ` +
      `(${underLoad.latencyOverheadToBareGitRatio} × bare git), agent-slot overhead ${underLoad.agentSlotOverheadPerTaskMilliseconds} ms/task, ` +
      `merge interval mean ${underLoad.mergeIntervalMilliseconds.mean} ms`,
    cpu === null
      ? '  CPU                       not sampled (no /proc)'
      : `  CPU                       ${cpu.perTaskMilliseconds} ms per task (loki ${cpu.selfSeconds} s, git and ` +
        `sandbox ${cpu.childrenSeconds} s): on ${cpu.cores} cores no run can beat ${cpu.wallFloorMilliseconds} ms`,
    `  peak RSS (loki process)   ${memory.peakRssMegabytes ?? '?'} MB (target ≤ ${memory.target.maximumPeakRssMegabytes})  ${verdict(memory.pass)}`,
  ].join('\n');
}

function loadAverageNow(): number {
  return roundTo(loadavg()[0] ?? Number.NaN, 2);
}

function log(message: string): void {
  process.stderr.write(`… ${message}\n`);
}
