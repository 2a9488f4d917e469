import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { systemClock } from '../clock/index.ts';
import { startDashboard } from '../dashboard/server/index.ts';
import { initWorkspace, openWorkspaceStore, workspacePaths } from '../workspace/index.ts';
import { describeEnvironment } from './bench-environment.ts';
import { DASHBOARD_CPU_RUN, measureDashboardCpu } from './dashboard-cpu.ts';

const TASKS = 1000;
const RENDER_GIVE_UP_MILLISECONDS = 30_000;
const EVENTS = 50_000;
const LIVE_EVENTS = 1000;
const LIVE_RATE_PER_SECOND = 200;
const TARGETS = { firstRenderMilliseconds: 1000, eventToDomP95Milliseconds: 100, serverCpuPercent: 5 };
const CHROMIUM_PATH = process.env.LOKI_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * `npm run bench -- dashboard`: the dashboard's first render of a workspace with 1,000 tasks and
 * 50,000 events, the delay from an event's commit to the DOM at 200 events/s, and the CPU the
 * server adds to a run; in bench/results/dashboard.json.
 */
export async function runDashboardBenchmark(repositoryRoot: string): Promise<void> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH} (set LOKI_TEST_CHROMIUM)`);
  const root = mkdtempSync(join(tmpdir(), 'loki-bench-dashboard-'));
  // Other work on the machine slows the page and the runs alike: the load is written down with them.
  const loadAtStart = roundedLoad();
  try {
    const seeded = await seedWorkspace(root);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      chromiumSandbox: process.getuid?.() !== 0,
    });
    try {
      const page = await browser.newPage();
      const render = await measureFirstRender(page, root);
      const live = await measureEventToDom(page, root);
      await page.close();
      // LOKI_BENCH_CPU_PROFILE_DIR: the runs with the dashboard also write V8 CPU profiles there.
      const cpu = await measureDashboardCpu(repositoryRoot, browser, {
        ...DASHBOARD_CPU_RUN,
        profileDirectory: process.env.LOKI_BENCH_CPU_PROFILE_DIR ?? null,
      });
      const results = {
        benchmark: 'dashboard',
        measuredAt: new Date().toISOString(),
        environment: describeEnvironment(),
        loadAverage: { atStart: loadAtStart, atEnd: roundedLoad(), note: '1, 5 and 15 minute load averages' },
        seeded,
        firstRender: {
          ...render,
          target: TARGETS.firstRenderMilliseconds,
          met: render.milliseconds !== null && render.milliseconds <= TARGETS.firstRenderMilliseconds,
        },
        eventToDom: {
          ...live,
          target: { p95Milliseconds: TARGETS.eventToDomP95Milliseconds },
          met: live.missing === 0 && live.p95Milliseconds <= TARGETS.eventToDomP95Milliseconds,
        },
        serverCpu: {
          ...cpu,
          targetPercent: TARGETS.serverCpuPercent,
          met: cpu.addedPercent <= TARGETS.serverCpuPercent,
        },
      };
      writeFileSync(
        join(repositoryRoot, 'bench', 'results', 'dashboard.json'),
        `${JSON.stringify(results, null, 2)}\n`,
      );
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** 1,000 pending tasks and 50,000 events, through the store's own API. */
async function seedWorkspace(root: string): Promise<{ tasks: number; events: number; seconds: number }> {
  const started = performance.now();
  writeFileSync(join(root, 'prd.md'), '# Bench\n\nA workspace for the dashboard benchmark.\n');
  await initWorkspace({ root, cwd: root, clock: systemClock, prdPath: 'prd.md' });
  await using store = await openWorkspaceStore(workspacePaths(root), systemClock);
  const tasks = Array.from({ length: TASKS }, (_, index) => ({
    id: `task-${index}`,
    type: 'eng-backend',
    title: `Bench task ${index}`,
    description: '',
    priority: 1 + (index % 10),
    dependencies: [],
    payload: null,
    idempotencyKey: null,
    runId: null,
    timeoutSeconds: 600,
    maxAttempts: 3,
  }));
  for (let start = 0; start < TASKS; start += 100) await store.insertTasks(tasks.slice(start, start + 100));
  const summary = await store.readSummary();
  for (let index = summary.lastEventSequence; index < EVENTS; index += 1) {
    await store.appendEvent({
      type: 'agent.text',
      runId: null,
      taskId: `task-${index % TASKS}`,
      data: { text: `seeded agent text ${index}` },
    });
  }
  return {
    tasks: TASKS,
    events: (await store.readSummary()).lastEventSequence,
    seconds: secondsSince(started),
  };
}

function roundedLoad(): number[] {
  return loadavg().map((load) => Math.round(load * 100) / 100);
}

function secondsSince(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}

/** From navigation to the kanban showing every task (the tasks view), in one fresh page. */
async function measureFirstRender(page: Page, root: string) {
  await using dashboard = await startDashboard({
    context: { cwd: root, env: { HOME: root, PATH: process.env.PATH }, clock: systemClock },
    port: 0,
  });
  const url = `${dashboard.url}#tasks`;
  const started = performance.now();
  await page.goto(url);
  // Page code as source text: this file is compiled without the DOM's types.
  const isShown = await page
    .waitForFunction(
      `[...document.querySelectorAll('.column .count')].reduce((sum, node) => sum + Number(node.textContent), 0) === ${TASKS}`,
      undefined,
      { timeout: RENDER_GIVE_UP_MILLISECONDS, polling: 'raf' },
    )
    .then(
      () => true,
      () => false,
    );
  // A render that never came is a missed target, written down as such (null), not a crash.
  return {
    milliseconds: isShown ? Math.round(performance.now() - started) : null,
    gaveUpAfterMilliseconds: isShown ? null : RENDER_GIVE_UP_MILLISECONDS,
  };
}

/**
 * 1,000 events committed at 200 per second while the page shows the live log, by a writer whose
 * commits wake the dashboard's stream (as the run's do in `loki run`); the page notes when
 * each one's text enters the DOM (a MutationObserver), against the time its commit returned. Both
 * clocks are this machine's wall clock.
 */
async function measureEventToDom(page: Page, root: string) {
  // The writer plays the run: as `loki run` does, it hands its commits to the dashboard it serves.
  await using store = await openWorkspaceStore(workspacePaths(root), systemClock);
  await using dashboard = await startDashboard({
    context: { cwd: root, env: { HOME: root, PATH: process.env.PATH }, clock: systemClock },
    port: 0,
    commits: store,
  });
  await page.goto(`${dashboard.url}#log`);
  await page
    .locator('.log li')
    .first()
    .waitFor({ timeout: RENDER_GIVE_UP_MILLISECONDS })
    .catch(() => undefined);
  await page.evaluate(`(() => {
    const seen = {};
    globalThis.benchSeen = seen;
    new MutationObserver((mutations) => {
      const now = Date.now();
      for (const mutation of mutations)
        for (const node of mutation.addedNodes) {
          const match = /bench-live-(\\d+)/.exec(node.textContent ?? '');
          if (match !== null) seen[match[1]] ??= now;
        }
    }).observe(document.body, { childList: true, subtree: true });
  })()`);
  const committedAt: number[] = [];
  const started = performance.now();
  for (let index = 0; index < LIVE_EVENTS; index += 1) {
    const due = started + (index * 1000) / LIVE_RATE_PER_SECOND;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await store.appendEvent({
      type: 'agent.text',
      runId: null,
      taskId: `task-${index % TASKS}`,
      data: { text: `bench-live-${index}` },
    });
    committedAt[index] = Date.now();
  }
  const achievedRate = LIVE_EVENTS / ((performance.now() - started) / 1000);
  // Whatever has not reached the DOM five seconds after the last commit is counted as missing.
  await page
    .waitForFunction(
      (count) => Object.keys((globalThis as unknown as { benchSeen: object }).benchSeen).length >= count,
      LIVE_EVENTS,
      { timeout: 5000 },
    )
    .catch(() => undefined);
  const seen = await page.evaluate(
    () => (globalThis as unknown as { benchSeen: Record<string, number> }).benchSeen,
  );
  const delays = committedAt
    .map((at, index) => {
      const domAt = seen[String(index)];
      return domAt === undefined ? null : domAt - at;
    })
    .filter((delay): delay is number => delay !== null)
    .sort((left, right) => left - right);
  const percentile = (share: number) =>
    delays[Math.min(delays.length - 1, Math.floor(share * delays.length))] ?? -1;
  return {
    events: LIVE_EVENTS,
    ratePerSecond: Math.round(achievedRate),
    missing: LIVE_EVENTS - delays.length,
    p50Milliseconds: percentile(0.5),
    p95Milliseconds: percentile(0.95),
    maxMilliseconds: delays.at(-1) ?? -1,
  };
}
