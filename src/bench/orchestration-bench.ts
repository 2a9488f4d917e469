import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LokiEvent } from '../events/index.ts';
import { type BenchEnvironment, describeEnvironment } from './bench-environment.ts';
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
  const environment = describeEnvironment();
  const loadAverageAtStart = loadAverageNow();
  log('building dist/ (the CLI runs the compiled code)');
  buildCli(repositoryRoot);
  const directory = mkdtempSync(join(tmpdir(), 'loki-bench-orchestration-'));
  try {
    const workspace = join(directory, 'workspace');
    const home = join(directory, 'home');
    mkdirSync(workspace);
    mkdirSync(home);
    // Its own HOME: the user's git configuration (hooks, signing, fsmonitor) must not change the figures.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' };
    writeFileSync(join(workspace, 'prd.md'), '# Files product\n\nA product made of small text files.\n');
    writeFileSync(join(workspace, 'session.json'), JSON.stringify(buildSession(benchSession())));

    // The bare git floor is measured before and after the run (the disk's state differs: the run
    // leaves write-back behind), and the mean of both is the figure the overhead is held against.
    log(`bare git: ${BARE_GIT_TASKS} tasks, one after another (before the run)`);
    const bareGitBefore = await measureBareGitCost(join(directory, 'bare-git-before'), {
      tasks: BARE_GIT_TASKS,
      filesOnMain: TASKS * FILES_PER_TASK,
      env,
    });

    log(
      `loki run: ${TASKS} tasks × ${MODEL_CALLS_PER_TASK} calls × ${LATENCY_MILLISECONDS} ms, --parallel ${CONCURRENCY}`,
    );
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
        String(CONCURRENCY),
        '--json',
      ],
      { cwd: workspace, env },
    );
    if (run.exitCode !== 0) {
      throw new Error(
        `loki run exited with ${run.exitCode ?? run.signal}:\n${run.stderr.trim()}\n${run.stdout.split('\n').slice(-5).join('\n')}`,
      );
    }
    const events = readEvents(run.stdout);
    // LOKI_BENCH_EVENTS=<file> keeps the run's NDJSON events, to look at one task's timeline.
    if (process.env.LOKI_BENCH_EVENTS) writeFileSync(process.env.LOKI_BENCH_EVENTS, run.stdout);
    const timings = analyzeRunEvents(events, LATENCY_MILLISECONDS);
    if (timings.tasksMerged !== TASKS)
      throw new Error(`only ${timings.tasksMerged} of ${TASKS} tasks were merged`);

    log(`bare git: ${BARE_GIT_TASKS} tasks, one after another (after the run)`);
    const bareGitAfter = await measureBareGitCost(join(directory, 'bare-git-after'), {
      tasks: BARE_GIT_TASKS,
      filesOnMain: TASKS * FILES_PER_TASK,
      env,
    });

    const report = buildReport({
      environment,
      run,
      timings,
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

type Report = ReturnType<typeof buildReport>;

function buildReport(input: {
  environment: BenchEnvironment;
  run: LokiProcessResult;
  timings: OrchestrationTimings;
  bareGit: [before: BareGitCost, after: BareGitCost];
  loadAverage: { atStart: number; atEnd: number };
}) {
  const { run, timings } = input;
  const [bareGitBefore, bareGitAfter] = input.bareGit;
  const bareGitPerTask = roundTo(
    (bareGitBefore.meanPerTaskMilliseconds + bareGitAfter.meanPerTaskMilliseconds) / 2,
    1,
  );
  const idealMilliseconds = (TASKS * MODEL_CALLS_PER_TASK * LATENCY_MILLISECONDS) / CONCURRENCY;
  const ratio = roundTo(timings.developmentWallMilliseconds / idealMilliseconds, 3);
  const overhead = timings.perTask.overhead;
  const overheadToBareGit = roundTo(overhead.mean / bareGitPerTask, 3);
  const targets = ORCHESTRATION_TARGETS;
  return {
    benchmark: 'orchestration' as const,
    date: new Date().toISOString(),
    environment: input.environment,
    /** One-minute load average: anything else running on the machine (another test suite) skews every figure. */
    loadAverage: input.loadAverage,
    method:
      `node bin/loki.js run --provider scripted --parallel ${CONCURRENCY} --json in a fresh temp directory; ` +
      `${TASKS} independent tasks, each ${FILES_PER_TASK} write_file calls and task_complete ` +
      `(${MODEL_CALLS_PER_TASK} model calls × ${LATENCY_MILLISECONDS} ms), one verify command per task ` +
      '(test -f of its files) run by the sandbox runner in the worktree and again by the merge queue; ' +
      'timings from the NDJSON events (createdAt, stamped when the store appends them)',
    workload: {
      tasks: TASKS,
      modelCallsPerTask: MODEL_CALLS_PER_TASK,
      latencyMilliseconds: LATENCY_MILLISECONDS,
      concurrency: CONCURRENCY,
    },
    measurements: {
      wall: {
        idealMilliseconds,
        developmentWallMilliseconds: timings.developmentWallMilliseconds,
        wallToIdealRatio: ratio,
        processWallMilliseconds: Math.round(run.wallMilliseconds),
        phasesMilliseconds: timings.phasesMilliseconds,
        target: { maximumRatio: targets.maximumWallToIdealRatio },
        pass: ratio <= targets.maximumWallToIdealRatio,
      },
      overheadPerTask: {
        milliseconds: overhead,
        bareGitPerTaskMilliseconds: bareGitPerTask,
        meanToBareGitRatio: overheadToBareGit,
        claimToMergedMilliseconds: timings.perTask.claimToMerged,
        modelMilliseconds: timings.perTask.model,
        verificationMilliseconds: timings.perTask.verification,
        parts: timings.perTask.overheadParts,
        target: { maximumMeanToBareGitRatio: targets.maximumOverheadToBareGitRatio },
        pass: overheadToBareGit <= targets.maximumOverheadToBareGitRatio,
      },
      mergeIntervalMilliseconds: timings.mergeInterval,
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
      'developmentWall = first task.claimed → last merge.completed; processWall = spawn → exit of the loki process ' +
        '(adds start-up, bootstrap, Discovery and Architecture (one scripted call each), the final verification of main and the report).',
      'overhead per task = its task.claimed → merge.completed minus its model time (model calls counted from ' +
        'usage.recorded × latency) minus its verification time (the verification.ran duration, counted twice because ' +
        'the merge queue re-runs the same command with the same runner and emits no event for it). What is left is ' +
        'the orchestrator: worktree setup, git checkpoint, waiting for and doing the merge, event writes. It is a ' +
        'latency: the wait for a merge batch is in it although a task waiting for its merge no longer holds an ' +
        'agent slot (the slot is freed once its work is verified). Worktree removal comes after merge.completed.',
      'parts: claimToAgentStarted = worktree creation and reset; agentOutsideModel = agent loop and tools; ' +
        'verificationToMerged = checkpoint commit, wait in the merge queue and the merge itself (re-verification taken off).',
      'mergeInterval = time between consecutive merge.completed events. Merges that queue up while one runs are ' +
        'merged as one batch (one verification, one move of main), so several complete at once and the mean ' +
        `interval is what matters: ${CONCURRENCY} tasks finishing every ${MODEL_CALLS_PER_TASK * LATENCY_MILLISECONDS} ms need it under ` +
        `${(MODEL_CALLS_PER_TASK * LATENCY_MILLISECONDS) / CONCURRENCY} ms.`,
      'peakRss is VmHWM of the loki process only (git and sandboxed commands are separate processes and not included).',
      'cpu: self is the loki Node process, children are git and the sandboxed verify commands it waited for ' +
        '(last /proc sample before exit, so the final few milliseconds are missing); wallFloor = all that CPU ' +
        'spread perfectly over every core: no schedule of this work can finish faster on this machine.',
    ],
  };
}

function benchSession() {
  const tasks: SessionTask[] = Array.from({ length: TASKS }, (_, index) => {
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
function buildCli(repositoryRoot: string): void {
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
  const { wall, overheadPerTask, bareGit, memory, mergeIntervalMilliseconds, cpu } = measurements;
  return [
    '',
    `orchestration benchmark — Node ${environment.nodeVersion}, ${environment.cpuCount} × ${environment.cpuModel}, ` +
      `temp dir on ${environment.temporaryDirectory.fileSystem}, load average ${report.loadAverage.atStart} → ${report.loadAverage.atEnd}`,
    `  wall (claim → last merge) ${wall.developmentWallMilliseconds} ms, ideal ${wall.idealMilliseconds} ms, ` +
      `ratio ${wall.wallToIdealRatio} (target ≤ ${wall.target.maximumRatio})  ${verdict(wall.pass)}`,
    `  whole process             ${wall.processWallMilliseconds} ms`,
    `  overhead per task         mean ${overheadPerTask.milliseconds.mean} ms, p95 ${overheadPerTask.milliseconds.p95} ms; ` +
      `bare git ${bareGit.meanPerTaskMilliseconds} ms/task → ${overheadPerTask.meanToBareGitRatio} × ` +
      `(target ≤ ${overheadPerTask.target.maximumMeanToBareGitRatio})  ${verdict(overheadPerTask.pass)}`,
    `  merge interval            mean ${mergeIntervalMilliseconds.mean} ms, p95 ${mergeIntervalMilliseconds.p95} ms`,
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
