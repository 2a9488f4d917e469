import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildSession } from './generated-session.ts';
import { runLokiProcess } from './run-loki-process.ts';

const RUN_TASKS = 20;

/**
 * The same scripted run twice: without the dashboard, then serving it to a page that follows the
 * run live (the event stream, the reloads of the figures). What the server adds is the difference
 * in the loki process's own CPU time, as a share of the run's CPU without it.
 */
export async function measureDashboardCpu(repositoryRoot: string, browser: Browser) {
  const without = await runOnce(repositoryRoot, null);
  const withDashboard = await runOnce(repositoryRoot, browser);
  const added = withDashboard.cpuSeconds - without.cpuSeconds;
  return {
    run: `${RUN_TASKS} scripted tasks, 2 model calls × 100 ms each, --parallel 4`,
    withoutDashboard: without,
    withDashboardAndPage: withDashboard,
    addedPercent: Math.round((added / without.cpuSeconds) * 1000) / 10,
  };
}

async function runOnce(repositoryRoot: string, browser: Browser | null) {
  const root = mkdtempSync(join(tmpdir(), 'loki-bench-dashboard-run-'));
  const home = mkdtempSync(join(tmpdir(), 'loki-bench-dashboard-home-'));
  try {
    writeFileSync(join(root, 'prd.md'), '# Files product\n\nSmall text files, one per requirement.\n');
    const tasks = Array.from({ length: RUN_TASKS }, (_, index) => ({
      id: `t${index}`,
      files: { [`files/t${index}.txt`]: `${index}\n` },
    }));
    writeFileSync(
      join(root, 'session.json'),
      JSON.stringify(buildSession({ tasks, latencyMilliseconds: 100 })),
    );
    const args = [join(repositoryRoot, 'bin', 'loki.js'), 'run', 'prd.md', '--provider', 'scripted'];
    args.push('--script', 'session.json', '--parallel', '4', '--json');
    if (browser === null) args.push('--no-dashboard');
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
    await page?.close();
    if (result.exitCode !== 0)
      throw new Error(`the benchmark run failed (exit ${result.exitCode}): ${result.stderr}`);
    const cpu = result.cpuSeconds;
    return {
      wallSeconds: Math.round(result.wallMilliseconds / 100) / 10,
      cpuSeconds: cpu === null ? Number.NaN : Math.round(cpu.self * 100) / 100,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
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
