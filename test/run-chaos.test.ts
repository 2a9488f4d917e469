/**
 * Chaos: `loki run` is killed with SIGKILL at random moments (during planning, mid-task, mid-merge,
 * between phases), and each time `loki resume` picks the run up again. The run must still complete
 * with every planned task merged into main exactly once, main verified, and nothing left behind:
 * no task worktree, no orphan process of a killed run.
 *
 * Only the `loki` process itself is killed, never its process group: that is what kill -9 (or the
 * OOM killer) does, and whatever it had started (git, sandboxed commands) must not outlive it for
 * long. Set LOKI_CHAOS_SEED to replay a run's kill moments; the seed is printed.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSession, type SessionTask } from '../src/bench/generated-session.ts';
import { lokiProcess, REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';
import { processesInside, waitForNoProcessesInside } from './support/processes-inside.ts';

const KILLS = 10;
/** Resumes allowed after the chaos before the run must have completed. */
const FINAL_RESUMES = 3;
const LATENCY_MILLISECONDS = 400;
/**
 * Kill moments are drawn uniformly from this window after the process starts. An uninterrupted run
 * takes several seconds here, so every one of the kills lands in a live run (asserted below).
 */
const EARLIEST_KILL_MILLISECONDS = 200;
const LATEST_KILL_MILLISECONDS = 1_400;
/** A single `loki` process that runs longer than this is hung, not slow. */
const PROCESS_DEADLINE_MILLISECONDS = 90_000;
/** Children of a killed run (git, sandboxes) may take a moment to notice; after this they are orphans. */
const ORPHAN_GRACE_MILLISECONDS = 3_000;

const PLANNED_TASKS: SessionTask[] = [
  ...Array.from({ length: 8 }, (_, index) => developmentTask(`feature-${index + 1}`)),
  developmentTask('combine-early', ['feature-1', 'feature-2', 'feature-3']),
  developmentTask('combine-late', ['combine-early', 'feature-6', 'feature-8']),
  {
    id: 'check-unit',
    phase: 'qa',
    files: { 'qa/check-unit.txt': 'content of check-unit\n' },
  },
  {
    id: 'check-smoke',
    phase: 'qa',
    files: { 'qa/check-smoke.txt': 'content of check-smoke\n' },
  },
];

/** The project's gates: every task's file is on main with its exact content. */
const PROJECT_VERIFY_COMMANDS = PLANNED_TASKS.flatMap((task) =>
  Object.entries(task.files).map(([path, content]) => `grep -qxF '${content.trim()}' '${path}'`),
);

function developmentTask(id: string, dependencies: string[] = []): SessionTask {
  return {
    id,
    phase: 'development',
    dependencies,
    files: { [`src/${id}.txt`]: `content of ${id}\n` },
  };
}

interface LokiExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The real `loki` executable (bin/loki.js → dist/) as a child process, its output collected. */
class LokiProcess {
  readonly exited: Promise<LokiExit>;
  readonly #child: ChildProcess;

  constructor(workspace: TempWorkspace, args: readonly string[]) {
    // detached: its own process group, so that cleanup after a failed test can reach what it started.
    this.#child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'loki.js'), ...args], {
      cwd: workspace.root,
      env: workspace.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    this.exited = new Promise((resolve, reject) => {
      this.#child.once('error', reject);
      this.#child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error('loki did not start (no pid)');
    return pid;
  }

  get hasExited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** kill -9 of the loki process alone, as a crash would; whatever it started is left to fend for itself. */
  killProcess(): void {
    if (!this.hasExited) this.#child.kill('SIGKILL');
  }

  /** Cleanup only: the whole process group. */
  killGroup(): void {
    if (this.hasExited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
    }
  }
}

/** mulberry32: a small seeded PRNG, so that a failing sequence of kill moments can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface RecordedRun {
  id: string;
  status: string;
}

/** The workspace's latest run as `loki status` reports it (null: no run yet). */
function readRecordedRun(workspace: TempWorkspace): RecordedRun | null {
  const status = lokiProcess(workspace, ['status', '--json']);
  if (status.exitCode !== 0) {
    // Only a kill before the workspace existed may leave nothing to report on.
    if (/no Loki workspace/i.test(status.stderr)) return null;
    throw new Error(`loki status failed (exit ${status.exitCode}): ${status.stderr}${status.stdout}`);
  }
  return (JSON.parse(status.stdout) as { run: RecordedRun | null }).run;
}

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The fields of a task in `.loki/queue/*.json` (see src/workspace/write-projections.ts) this test reads. */
interface ProjectedTask {
  id: string;
  retries: number;
  lastError: string | null;
}

interface ChaosStep {
  command: 'run' | 'resume';
  killAfterMilliseconds: number | null;
  durationMilliseconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  lastLines: string;
  /** Failures the run reported on its way (a kill is not a task's failure, so normally none). */
  failureLines: string[];
  stderr: string;
}

function describeStep(step: ChaosStep, index: number): string {
  const kill = step.killAfterMilliseconds === null ? 'no kill' : `kill at ${step.killAfterMilliseconds} ms`;
  const ending = step.signal === null ? `exit ${step.code}` : `killed (${step.signal})`;
  const stderr = step.stderr.trim() === '' ? '' : `\n      stderr: ${step.stderr.trim()}`;
  const failures = step.failureLines.map((line) => `\n      ${line}`).join('');
  return `  ${index + 1}. loki ${step.command}, ${kill} → ${ending} after ${step.durationMilliseconds} ms; last output: ${step.lastLines}${failures}${stderr}`;
}

function lastLines(stdout: string, count = 2): string {
  return stdout
    .trim()
    .split('\n')
    .slice(-count)
    .map((line) => line.trim())
    .join(' | ');
}

describe('loki run survives kill -9', () => {
  const started: LokiProcess[] = [];
  let workspace: TempWorkspace | null = null;

  afterEach(async () => {
    for (const child of started) child.killGroup();
    started.length = 0;
    if (workspace !== null) {
      // A failed test must not leak the orphans it found into the rest of the suite.
      for (const leftover of processesInside(workspace.root)) {
        try {
          process.kill(leftover.pid, 'SIGKILL');
        } catch (error) {
          // ESRCH: it exited since the scan.
          if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
        }
      }
      workspace[Symbol.dispose]();
      workspace = null;
    }
  });

  it(`completes after ${KILLS} kills at random moments, every task merged exactly once`, async () => {
    const seed = Number(process.env.LOKI_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`run-chaos seed: ${seed} (LOKI_CHAOS_SEED=${seed} replays these kill moments)`);
    const random = seededRandom(seed);
    const current = new TempWorkspace('loki-chaos-');
    workspace = current;
    const root = current.root;
    writeFileSync(join(root, 'prd.md'), '# Files product\n\nA product made of small text files.\n');
    const session = buildSession({
      tasks: PLANNED_TASKS,
      latencyMilliseconds: LATENCY_MILLISECONDS,
      verifyCommands: PROJECT_VERIFY_COMMANDS,
    });
    writeFileSync(join(root, 'session.json'), JSON.stringify(session, null, 2));
    const modelArguments = ['--provider', 'scripted', '--script', 'session.json', '--parallel', '4'];

    const steps: ChaosStep[] = [];
    const history = () => `seed ${seed}, workspace ${root}\n${steps.map(describeStep).join('\n')}`;
    const runOnce = async (
      killAfterMilliseconds: number | null,
      recorded: RecordedRun | null,
    ): Promise<ChaosStep> => {
      // `loki run` until the store holds the run: a kill before that leaves nothing to resume.
      const command = recorded === null ? 'run' : 'resume';
      const lokiArguments =
        command === 'run' ? ['run', 'prd.md', ...modelArguments] : ['resume', ...modelArguments];
      const startedAt = Date.now();
      const loki = new LokiProcess(current, lokiArguments);
      started.push(loki);
      const killer =
        killAfterMilliseconds === null
          ? undefined
          : setTimeout(() => loki.killProcess(), killAfterMilliseconds);
      const hung = setTimeout(() => loki.killGroup(), PROCESS_DEADLINE_MILLISECONDS);
      const exit = await loki.exited.finally(() => {
        clearTimeout(killer);
        clearTimeout(hung);
      });
      const step: ChaosStep = {
        command,
        killAfterMilliseconds,
        durationMilliseconds: Date.now() - startedAt,
        code: exit.code,
        signal: exit.signal,
        lastLines: lastLines(exit.stdout),
        failureLines: exit.stdout
          .split('\n')
          .filter((line) => /✗|FAILED/.test(line))
          .map((line) => line.trim()),
        stderr: exit.stderr,
      };
      steps.push(step);
      return step;
    };

    // 1. The chaos: kill after kill, each followed by the next resume. A kill may land after the run
    // recorded its completion (while it writes its report): then there is nothing left to resume.
    const hasFinished = (step: ChaosStep | undefined, latestRun: RecordedRun | null) =>
      latestRun?.status === 'completed' || (step?.signal === null && step.code === 0);
    let recorded: RecordedRun | null = null;
    for (let kill = 0; kill < KILLS; kill += 1) {
      const killAfterMilliseconds = Math.round(
        EARLIEST_KILL_MILLISECONDS + random() * (LATEST_KILL_MILLISECONDS - EARLIEST_KILL_MILLISECONDS),
      );
      const step = await runOnce(killAfterMilliseconds, recorded);
      recorded = readRecordedRun(current);
      if (hasFinished(step, recorded)) break;
    }

    // 2. Resume until done.
    for (let resume = 0; !hasFinished(steps.at(-1), recorded) && resume < FINAL_RESUMES; resume += 1) {
      await runOnce(null, recorded);
      recorded = readRecordedRun(current);
    }
    console.log(`run-chaos history:\n${history()}`);
    expect(recorded?.status, `the run did not complete:\n${history()}`).toBe('completed');
    const runId = recorded?.id ?? '';
    // From here on every check runs, so that one failure shows all that a crash left wrong.

    // The chaos really happened: every kill landed in a live run.
    expect(
      steps.filter((step) => step.signal === 'SIGKILL'),
      history(),
    ).toHaveLength(KILLS);

    // Only a kill may end a process before completion: a resume that fails by itself is a crash-safety bug.
    const failedByThemselves = steps.filter((step) => step.signal === null && step.code !== 0);
    expect.soft(failedByThemselves.map(describeStep), history()).toEqual([]);

    // 3. Nothing of the killed runs is still alive.
    const orphans = await waitForNoProcessesInside(root, ORPHAN_GRACE_MILLISECONDS);
    expect
      .soft(
        orphans.map((orphan) => `${orphan.pid} (cwd ${orphan.workingDirectory}): ${orphan.commandLine}`),
        `orphan processes; ${history()}`,
      )
      .toEqual([]);

    // 4. Every planned task is on main exactly once.
    const plannedIds = PLANNED_TASKS.map((task) => task.id).sort();
    const mergedIds = git(root, ['log', 'main', '--format=%(trailers:key=Loki-Task,valueonly)'])
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .sort();
    expect.soft(mergedIds, `Loki-Task trailers on main; ${history()}`).toEqual(plannedIds);

    // 5. Main holds each task's files with their content, and the checkout of main matches it.
    for (const task of PLANNED_TASKS) {
      for (const [path, content] of Object.entries(task.files)) {
        expect.soft(git(root, ['show', `main:${path}`]), `${path} on main; ${history()}`).toBe(content);
      }
    }
    expect.soft(git(root, ['symbolic-ref', '--short', 'HEAD']).trim()).toBe('main');
    expect.soft(git(root, ['status', '--porcelain', '--untracked-files=no']), history()).toBe('');

    // 6. Main is green: the project's gates pass on a fresh clone of it.
    const clone = join(current.home, 'main-clone');
    git(current.home, ['clone', '--quiet', '--branch', 'main', root, clone]);
    for (const command of PROJECT_VERIFY_COMMANDS) {
      const result = spawnSync('/bin/sh', ['-c', command], { cwd: clone, encoding: 'utf8' });
      expect.soft(result.status, `\`${command}\` on a fresh clone of main; ${history()}`).toBe(0);
    }

    // 7. The queue projection agrees: every planned task completed, nothing else anywhere.
    const queueDirectory = join(root, '.loki', 'queue');
    const projectedTasks = (file: string) =>
      (JSON.parse(readFileSync(join(queueDirectory, file), 'utf8')) as { tasks: ProjectedTask[] }).tasks;
    const projectedIds = (file: string) =>
      projectedTasks(file)
        .map((task) => task.id)
        .sort();
    expect.soft(projectedIds('completed.json'), history()).toEqual(plannedIds);
    // An interrupted attempt goes back to the queue uncounted: only a real failure counts as a retry.
    const retried = projectedTasks('completed.json')
      .filter((task) => task.retries > 0)
      .map((task) => `${task.id}: ${task.retries} failure(s), last: ${task.lastError ?? '(none)'}`);
    expect.soft(retried, `tasks that failed on the way; ${history()}`).toEqual([]);
    for (const file of [
      'pending.json',
      'in-progress.json',
      'failed.json',
      'dead-letter.json',
      'cancelled.json',
    ]) {
      expect.soft(projectedIds(file), `${file}; ${history()}`).toEqual([]);
    }

    // 8. The run's report is written and says completed (`loki run` again points the user at it).
    const reportPath = join(root, '.loki', 'artifacts', 'reports', `${runId}.json`);
    expect.soft(existsSync(reportPath), `${reportPath} is missing; ${history()}`).toBe(true);
    expect.soft(existsSync(reportPath.replace(/\.json$/, '.md')), `Markdown report; ${history()}`).toBe(true);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { status: string; exitCode: number };
    expect.soft(report, history()).toMatchObject({ status: 'completed', exitCode: 0 });

    // 9. No worktree is left: git knows only the main checkout, and .loki/worktrees holds nothing.
    const worktrees = git(root, ['worktree', 'list', '--porcelain'])
      .split('\n')
      .filter((line) => line.startsWith('worktree '))
      .map((line) => line.slice('worktree '.length));
    expect.soft(worktrees, history()).toEqual([root]);
    const worktreesDirectory = join(root, '.loki', 'worktrees');
    const leftoverDirectories = existsSync(worktreesDirectory) ? readdirSync(worktreesDirectory) : [];
    expect.soft(leftoverDirectories, history()).toEqual([]);
  }, 180_000);
});
