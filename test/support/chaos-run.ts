import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ChaosMoment } from './chaos-moments.ts';
import { lokiProcess, REPOSITORY_ROOT, type TempWorkspace } from './cli-harness.ts';

/**
 * How a chaos step ends a live `loki`:
 * - `kill-process`: kill -9 of the loki process alone (a crash, the OOM killer);
 * - `kill-group`: kill -9 of its whole process group (a terminal closed, a CI job cancelled);
 * - `forced-stop`: Ctrl-C, then Ctrl-C again as soon as it says it is stopping.
 */
export type Disruption = 'kill-process' | 'kill-group' | 'forced-stop';

/** A single `loki` process that runs longer than this is hung, not slow. */
const PROCESS_DEADLINE_MILLISECONDS = 120_000;

export interface LokiExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The real `loki` executable (bin/loki.js → dist/) in its own process group, its output collected. */
export class ChaosProcess {
  readonly exited: Promise<LokiExit>;
  readonly #child: ChildProcess;
  #stdout = '';
  readonly #onOutput = new Set<() => void>();

  constructor(workspace: TempWorkspace, args: readonly string[]) {
    this.#child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'loki.js'), ...args], {
      cwd: workspace.root,
      env: workspace.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stdout += chunk;
      for (const listener of this.#onOutput) listener();
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    this.exited = new Promise((resolve, reject) => {
      this.#child.once('error', reject);
      this.#child.once('close', (code, signal) => resolve({ code, signal, stdout: this.#stdout, stderr }));
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

  async disrupt(disruption: Disruption): Promise<void> {
    if (this.hasExited) return;
    switch (disruption) {
      case 'kill-process':
        this.#child.kill('SIGKILL');
        return;
      case 'kill-group':
        this.killGroup();
        return;
      case 'forced-stop':
        this.#child.kill('SIGINT');
        // Two signals sent back to back may arrive as one: the second goes once the first is handled.
        await Promise.race([this.#outputMatches(/Stopping/), this.exited]);
        if (!this.hasExited) this.#child.kill('SIGINT');
        return;
    }
  }

  /** kill -9 of the whole process group (also the cleanup after a failed test). */
  killGroup(): void {
    if (this.hasExited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
    }
  }

  #outputMatches(pattern: RegExp): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!pattern.test(this.#stdout)) return;
        this.#onOutput.delete(check);
        resolve();
      };
      this.#onOutput.add(check);
      check();
    });
  }
}

export interface ChaosStep {
  command: 'run' | 'resume';
  /** What the step aimed at: a moment, a time after the start, or nothing (a plain resume). */
  aim: string;
  disruption: Disruption | null;
  /** When the disruption was applied, after the start; null when the process ended first. */
  disruptedAfterMilliseconds: number | null;
  durationMilliseconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  lastLines: string;
  /** Failures the run reported on its way (a disruption is not a task's failure, so normally none). */
  failureLines: string[];
  stderr: string;
}

export interface RecordedRun {
  id: string;
  status: string;
}

/**
 * One workspace's sequence of `loki run` / `loki resume` processes, each possibly disrupted at a
 * moment, with the history a failure prints (seed first: LOKI_CHAOS_SEED=<seed> replays it).
 */
export class ChaosSession {
  readonly steps: ChaosStep[] = [];
  readonly #workspace: TempWorkspace;
  readonly #modelArguments: readonly string[];
  readonly #seed: number;
  readonly #started: ChaosProcess[] = [];
  #recorded: RecordedRun | null = null;

  constructor(workspace: TempWorkspace, modelArguments: readonly string[], seed: number) {
    this.#workspace = workspace;
    this.#modelArguments = modelArguments;
    this.#seed = seed;
  }

  /** The workspace's latest run as `loki status` last reported it (null: no run recorded yet). */
  get recorded(): RecordedRun | null {
    return this.#recorded;
  }

  /** The run completed (recorded so, or the last process said so before a disruption could land). */
  get hasFinished(): boolean {
    const last = this.steps.at(-1);
    return this.#recorded?.status === 'completed' || (last?.signal === null && last.code === 0);
  }

  history(): string {
    return `LOKI_CHAOS_SEED=${this.#seed}, workspace ${this.#workspace.root}\n${this.steps.map(describeStep).join('\n')}`;
  }

  /**
   * Starts `loki run` (until the store holds the run: a disruption before that leaves nothing to
   * resume) or a plain `loki resume`, applies `disruption` when `moment` comes or after
   * `afterMilliseconds`, and waits for the process to end.
   */
  async step(options: {
    disruption?: Disruption;
    moment?: ChaosMoment;
    afterMilliseconds?: number;
  }): Promise<ChaosStep> {
    const command = this.#recorded === null ? 'run' : 'resume';
    const args =
      command === 'run' ? ['run', 'prd.md', ...this.#modelArguments] : ['resume', ...this.#modelArguments];
    const armed = options.moment?.arm(this.#workspace.root);
    const startedAt = Date.now();
    const loki = new ChaosProcess(this.#workspace, args);
    this.#started.push(loki);
    let disruptedAfterMilliseconds: number | null = null;
    let disruptionError: unknown = null;
    const disrupt = () => {
      if (options.disruption === undefined || loki.hasExited || disruptedAfterMilliseconds !== null) return;
      disruptedAfterMilliseconds = Date.now() - startedAt;
      loki.disrupt(options.disruption).catch((error: unknown) => {
        disruptionError = error;
        loki.killGroup();
      });
    };
    const timer =
      options.afterMilliseconds === undefined ? undefined : setTimeout(disrupt, options.afterMilliseconds);
    // A moment that never comes (the process ended first) is closed below; its promise then never settles.
    armed?.arrived.then(disrupt, () => undefined);
    const hung = setTimeout(() => loki.killGroup(), PROCESS_DEADLINE_MILLISECONDS);
    const exit = await loki.exited.finally(() => {
      clearTimeout(timer);
      clearTimeout(hung);
      armed?.close();
    });
    if (disruptionError !== null) throw disruptionError;
    const aim =
      options.moment?.description ??
      (options.afterMilliseconds === undefined
        ? 'nothing'
        : `${options.afterMilliseconds} ms after the start`);
    const step: ChaosStep = {
      command,
      aim,
      disruption: options.disruption ?? null,
      disruptedAfterMilliseconds,
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
    this.steps.push(step);
    this.#recorded = readRecordedRun(this.#workspace);
    return step;
  }

  /** Cleanup after a failed test: whatever is still running goes. */
  killAll(): void {
    for (const loki of this.#started) loki.killGroup();
  }
}

/** The workspace's latest run as `loki status` reports it (null: no run yet). */
function readRecordedRun(workspace: TempWorkspace): RecordedRun | null {
  const status = lokiProcess(workspace, ['status', '--json']);
  if (status.exitCode !== 0) {
    // Only a disruption before the workspace existed may leave nothing to report on.
    if (/no Loki workspace/i.test(status.stderr)) return null;
    throw new Error(`loki status failed (exit ${status.exitCode}): ${status.stderr}${status.stdout}`);
  }
  return (JSON.parse(status.stdout) as { run: RecordedRun | null }).run;
}

export function describeStep(step: ChaosStep, index: number): string {
  const disruption =
    step.disruption === null
      ? 'no disruption'
      : `${step.disruption} aimed ${step.aim}` +
        (step.disruptedAfterMilliseconds === null
          ? ' (the process ended first)'
          : ` at ${step.disruptedAfterMilliseconds} ms`);
  const ending = step.signal === null ? `exit ${step.code}` : `killed (${step.signal})`;
  const stderr = step.stderr.trim() === '' ? '' : `\n      stderr: ${step.stderr.trim()}`;
  const failures = step.failureLines.map((line) => `\n      ${line}`).join('');
  return `  ${index + 1}. loki ${step.command}, ${disruption} → ${ending} after ${step.durationMilliseconds} ms; last output: ${step.lastLines}${failures}${stderr}`;
}

function lastLines(stdout: string, count = 2): string {
  return stdout
    .trim()
    .split('\n')
    .slice(-count)
    .map((line) => line.trim())
    .join(' | ');
}

/** mulberry32: a small seeded PRNG, so that a failing sequence of disruptions can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seeds of a chaos test's rounds: LOKI_CHAOS_SEED replays one (the first round's), otherwise a
 * random one; LOKI_CHAOS_ROUNDS repeats the test that many times in a row (default 1), round r
 * with seed + r.
 */
export function chaosSeeds(): number[] {
  const rounds = Number(process.env.LOKI_CHAOS_ROUNDS ?? '1');
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(
      `LOKI_CHAOS_ROUNDS must be a whole number of at least 1, not ${process.env.LOKI_CHAOS_ROUNDS}`,
    );
  }
  const base = Number(process.env.LOKI_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  return Array.from({ length: rounds }, (_, round) => base + round);
}
