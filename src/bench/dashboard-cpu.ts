import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildSession } from './generated-session.ts';
import { runLokiProcess } from './run-loki-process.ts';

export interface DashboardCpuOptions {
  /** Runs with and without the dashboard, alternating: the medians of each arm are compared. */
  pairs: number;
  tasks: number;
  /** Each model call's latency (two calls per task). */
  latencyMilliseconds: number;
  parallel: number;
  /** When set, the runs with the dashboard write a V8 CPU profile of the loki process here. */
  profileDirectory: string | null;
}

/** About a minute per run on a quiet 2-core machine: long enough that the run, not its start, is measured. */
export const DASHBOARD_CPU_RUN: DashboardCpuOptions = {
  pairs: 2,
  tasks: 150,
  latencyMilliseconds: 400,
  parallel: 4,
  profileDirectory: null,
};

interface ArmRun {
  wallSeconds: number;
  /** The loki process and everything it waited for (git, verification commands, sandboxes). */
  treeCpuSeconds: number;
  /** The loki process alone: where the dashboard server runs. */
  processCpuSeconds: number;
  /** The loki process's peak resident set: each fork of git copies its page tables. */
  peakRssMegabytes: number | null;
}

/**
 * The same scripted run, without the dashboard and serving it to a page that follows the run live
 * (the event stream, the reloads of the figures), alternating so that a machine that gets busier
 * or quieter weighs on both arms alike. What the server adds is the difference of the medians of
 * the whole process tree's CPU time, as a share of the median without it.
 */
export async function measureDashboardCpu(
  repositoryRoot: string,
  browser: Browser,
  options: DashboardCpuOptions = DASHBOARD_CPU_RUN,
) {
  const without: ArmRun[] = [];
  const withDashboard: ArmRun[] = [];
  for (let pair = 0; pair < options.pairs; pair += 1) {
    // ABBA: neither arm always runs first (a cold cache, a neighbour that starts up).
    const order = pair % 2 === 0 ? [null, browser] : [browser, null];
    for (const arm of order) {
      const run = await runOnce(repositoryRoot, arm, options);
      (arm === null ? without : withDashboard).push(run);
    }
  }
  const tree = { without: median(without, 'treeCpuSeconds'), with: median(withDashboard, 'treeCpuSeconds') };
  const own = {
    without: median(without, 'processCpuSeconds'),
    with: median(withDashboard, 'processCpuSeconds'),
  };
  return {
    run: `${options.tasks} scripted tasks, 2 model calls × ${options.latencyMilliseconds} ms each, --parallel ${options.parallel}; ${options.pairs} runs per arm, alternating`,
    withoutDashboard: {
      runs: without,
      medianTreeCpuSeconds: tree.without,
      medianProcessCpuSeconds: own.without,
    },
    withDashboardAndPage: {
      runs: withDashboard,
      medianTreeCpuSeconds: tree.with,
      medianProcessCpuSeconds: own.with,
    },
    addedCpuSeconds: round(tree.with - tree.without, 100),
    addedPercent: percentOf(tree.with - tree.without, tree.without),
    spreadPercent: {
      withoutDashboard: spreadOf(without),
      withDashboardAndPage: spreadOf(withDashboard),
      note: '(max − min) / median of the tree CPU in each arm: a difference smaller than this is noise',
    },
  };
}

async function runOnce(repositoryRoot: string, browser: Browser | null, options: DashboardCpuOptions) {
  const root = mkdtempSync(join(tmpdir(), 'loki-bench-dashboard-run-'));
  const home = mkdtempSync(join(tmpdir(), 'loki-bench-dashboard-home-'));
  try {
    writeFileSync(join(root, 'prd.md'), '# Files product\n\nSmall text files, one per requirement.\n');
    const tasks = Array.from({ length: options.tasks }, (_, index) => ({
      id: `t${index}`,
      files: { [`files/t${index}.txt`]: `${index}\n` },
    }));
    writeFileSync(
      join(root, 'session.json'),
      JSON.stringify(buildSession({ tasks, latencyMilliseconds: options.latencyMilliseconds })),
    );
    const profile =
      browser !== null && options.profileDirectory !== null
        ? ['--cpu-prof', '--cpu-prof-dir', options.profileDirectory]
        : [];
    const args = [...profile, join(repositoryRoot, 'bin', 'loki.js'), 'run', 'prd.md'];
    args.push('--provider', 'scripted', '--script', 'session.json');
    args.push('--parallel', String(options.parallel), '--json');
    if (browser === null) args.push('--no-dashboard');
    const childrenBefore = reapedChildrenCpuSeconds();
    const running = runLokiProcess(args, {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: home, LOKI_DASHBOARD_PORT: '0', ...gitIdentity },
    });
    let isDone = false;
    void running.finally(() => (isDone = true));
    const page = browser === null ? null : await browser.newPage();
    if (page !== null) {
      const url = await waitForDashboardUrl(home, () => isDone);
      if (url !== null) await page.goto(`${url}#overview`).catch(() => undefined);
    }
    const result = await running;
    const treeCpuSeconds = reapedChildrenCpuSeconds() - childrenBefore;
    await page?.close();
    if (result.exitCode !== 0)
      throw new Error(`the benchmark run failed (exit ${result.exitCode}): ${result.stderr}`);
    return {
      wallSeconds: round(result.wallMilliseconds / 1000, 10),
      treeCpuSeconds: round(treeCpuSeconds, 100),
      processCpuSeconds: result.cpuSeconds === null ? Number.NaN : round(result.cpuSeconds.self, 100),
      peakRssMegabytes: result.peakRssMegabytes,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * CPU time of this process's children that have exited and been waited for (cutime + cstime of
 * /proc/self/stat), which includes what they waited for in turn. Between the start of a loki
 * process and its exit, the only child reaped is that process (Chromium and its renderers are
 * reaped when the browser closes): the difference is the loki process tree's CPU time, exact, with
 * nothing lost to sampling.
 */
function reapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // After "pid (comm) ", field 3 (state) is index 0, so field n is index n − 3: cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function median(runs: readonly ArmRun[], key: 'treeCpuSeconds' | 'processCpuSeconds'): number {
  const sorted = runs.map((run) => run[key]).sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const value =
    sorted.length % 2 === 1
      ? (sorted[middle] ?? Number.NaN)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return round(value, 100);
}

function spreadOf(runs: readonly ArmRun[]): number {
  const values = runs.map((run) => run.treeCpuSeconds);
  return percentOf(Math.max(...values) - Math.min(...values), median(runs, 'treeCpuSeconds'));
}

function percentOf(part: number, whole: number): number {
  return round((part / whole) * 100, 10);
}

function round(value: number, per: number): number {
  return Math.round(value * per) / per;
}

const gitIdentity = {
  GIT_AUTHOR_NAME: 'Loki Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'Loki Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
};

/** The run writes its dashboard's address (with the token) under ~/.loki/dashboards/ once it serves. */
async function waitForDashboardUrl(home: string, isDone: () => boolean): Promise<string | null> {
  const directory = join(home, '.loki', 'dashboards');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !isDone()) {
    const name = existsSync(directory) ? readdirSync(directory)[0] : undefined;
    if (name !== undefined)
      return (JSON.parse(readFileSync(join(directory, name), 'utf8')) as { url: string }).url;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}
