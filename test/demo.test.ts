import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../src/deploy/index.ts';
import type { RunReport } from '../src/orchestrator/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { HAS_CHROMIUM, launchChromium, seriousAxeViolations } from './support/dashboard-browser.ts';
import { fetchText, stopDeploymentAtEnd, supervisorStatus } from './support/deploy-fixture.ts';
import { lowestWorkerLimit, mostTasksHeldAtOnce } from './support/concurrency.ts';
import {
  extraWorktrees,
  git,
  mergedTaskIds,
  readEvents,
  readJsonFile,
  startLoki,
} from './support/run-harness.ts';

describe('loki demo', () => {
  it('builds the example product offline with agents in parallel; the product’s own tests pass', async () => {
    using workspace = new TempWorkspace('loki-demo-test-');
    const directory = join(workspace.root, 'demo');
    // How long it takes is the benchmark's business (npm run bench), not a test's.
    await using _deployment = stopDeploymentAtEnd(workspace, directory);
    const demo = startLoki(workspace, ['demo', '--dir', directory, '--parallel', '4', '--json']);
    const result = await demo.done;
    expect(result.exitCode, result.stderr + result.stdout.slice(-3000)).toBe(0);

    // Three agents or more at work at the same moment, unless the machine's load lowered the worker
    // limit below that (then as many as it allowed).
    const events = readEvents(result.stdout);
    expect(mostTasksHeldAtOnce(events)).toBeGreaterThanOrEqual(Math.min(3, lowestWorkerLimit(events, 4)));
    const outcome = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
      type: string;
      status: string;
      reviewFindings: unknown[];
    };
    expect(outcome).toMatchObject({ type: 'run.outcome', status: 'completed' });

    // One checkpoint per planned task, and every task listed as completed.
    const architecture = readJsonFile<{ tasks: { id: string; agentType: string; title: string }[] }>(
      join(directory, '.loki', 'specs', 'architecture.json'),
    );
    const plannedIds = architecture.tasks.map((task) => task.id);
    expect(mergedTaskIds(directory).sort()).toEqual([...plannedIds].sort());
    const subjects = git(directory, ['log', 'main', '--format=%s']).trim().split('\n');
    for (const task of architecture.tasks)
      expect(subjects).toContain(`[Loki] ${task.agentType}-${task.id}: ${task.title}`);
    const completed = readJsonFile<unknown>(join(directory, '.loki', 'queue', 'completed.json'));
    for (const id of plannedIds) expect(JSON.stringify(completed)).toContain(`"id":"${id}"`);

    // The report exists and proves every requirement.
    const reports = readdirSync(join(directory, '.loki', 'artifacts', 'reports'));
    const reportJson = reports.find((name) => name.endsWith('.json'));
    expect(reportJson).toBeDefined();
    const report = readJsonFile<RunReport>(
      join(directory, '.loki', 'artifacts', 'reports', reportJson ?? ''),
    );
    expect(report.status).toBe('completed');
    expect(report.headline).toBe('VERIFIED');
    expect(report.notProven).toEqual([]);
    expect(report.requirements.length).toBeGreaterThan(0);
    expect(report.prd).toEqual({
      proven: report.requirements.length,
      total: report.requirements.length,
      percent: 100,
    });
    // Every requirement proven by a passing test that names it, not by a gate or a merged task.
    for (const requirement of report.requirements) {
      expect(
        requirement.tests.filter((test) => test.outcome === 'passed' && test.name.includes(requirement.id)),
        requirement.id,
      ).not.toEqual([]);
    }
    const htmlReport = join(directory, '.loki', 'artifacts', 'reports', `${report.runId}.html`);
    expect(existsSync(htmlReport)).toBe(true);
    if (HAS_CHROMIUM) await expectReportOpensCleanly(htmlReport);

    // The store's change was reviewed blind: a Low finding left as TODO(review) and a Cosmetic one as
    // FIXME(nitpick) at their lines on main, listed in the report with how each was resolved.
    expect(report.reviewFindings).toEqual([
      expect.objectContaining({
        taskId: 'todo-store',
        reviewer: 'review-code',
        severity: 'Low',
        routing: 'todo_comment',
        resolution: 'left as TODO(review) at src/todo-store.js:43',
        isResolved: true,
      }),
      expect.objectContaining({
        taskId: 'todo-store',
        severity: 'Cosmetic',
        resolution: 'left as FIXME(nitpick) at src/todo-store.js:72',
        isResolved: true,
      }),
    ]);
    const store = readFileSync(join(directory, 'src', 'todo-store.js'), 'utf8').split('\n');
    expect(store[42]).toMatch(/^ {6}\/\/ TODO\(review\): create\(\) adds the todo in memory before save\(\)/);
    expect(store[43]).toBe('      todos = [todo, ...todos];');
    expect(store.find((line) => line.includes('FIXME(nitpick)'))).toMatch(/validTitle reads like/);
    const markdown = readFileSync(
      join(directory, '.loki', 'artifacts', 'reports', `${report.runId}.md`),
      'utf8',
    );
    expect(markdown).toContain('| Low | todo-store (round 1, review-code) | src/todo-store.js:43 |');
    expect(outcome.reviewFindings).toEqual(report.reviewFindings);
    expect(report.mainVerification?.health?.statusCode).toBe(200);
    expect(report.deployment).toMatchObject({ version: 'v1', status: 'live', target: 'local' });
    expect(report.deployment?.checks.every((check) => check.verdict === 'pass')).toBe(true);
    expect(report.mainVerification?.gates[0]?.tests?.failed).toBe(0);
    expect(report.mainVerification?.gates[0]?.tests?.passed).toBeGreaterThan(10);

    // The user's checkout is the product at main, and its own test command passes.
    expect(git(directory, ['status', '--porcelain', '--untracked-files=no'])).toBe('');
    expect(existsSync(join(directory, 'package.json'))).toBe(true);
    const npmTest = spawnSync('npm', ['test'], {
      cwd: directory,
      encoding: 'utf8',
      env: { ...workspace.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      timeout: 60_000,
    });
    expect(npmTest.status, npmTest.stdout + npmTest.stderr).toBe(0);
    expect(npmTest.stdout).toMatch(/pass \d+/);
    expect(extraWorktrees(directory)).toEqual([]);
    expect(readFileSync(join(directory, 'prd.md'), 'utf8')).toBe(
      readFileSync(join(import.meta.dirname, '..', 'examples', 'todo-api', 'prd.md'), 'utf8'),
    );
  }, 420_000);

  it('says plainly that the model is scripted, and where the product is, at the start and the end', async () => {
    using workspace = new TempWorkspace('loki-demo-test-');
    const directory = join(workspace.root, 'plain');
    await using _deployment = stopDeploymentAtEnd(workspace, directory);
    const demo = startLoki(workspace, ['demo', '--dir', directory, '--parallel', '8']);
    const result = await demo.done;
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`Loki Mode demo in ${directory}`);
    expect(lines[1]).toContain('The model is SCRIPTED');
    expect(lines.at(-2)).toContain(`The demo product is in ${directory}`);
    expect(result.stdout).toContain('VERIFIED; report: ');
    expect(result.stdout).toContain('  review: 2 finding(s), all resolved\n');
    expect(result.stdout).toContain(
      '    Low (todo-store, review-code): left as TODO(review) at src/todo-store.js:43\n',
    );

    // loki has exited: the product answers on the printed URL, served by the detached supervisor.
    const url = /It is served at (http:\/\/127\.0\.0\.1:\d+) /.exec(lines.at(-1) ?? '')?.[1];
    expect(url, lines.at(-1)).toBeDefined();
    expect(await fetchText(`${url ?? ''}/health`)).not.toBeNull();
    const supervisor = await supervisorStatus({ root: directory } as TempWorkspace);
    const pids = [supervisor?.pid ?? 0, ...(supervisor?.apps.map((app) => app.pid ?? 0) ?? [])];
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    const stopped = await loki(workspace, ['deploy', 'stop'], { cwd: directory });
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    for (const pid of pids) expect(isAlive(pid), `pid ${String(pid)}`).toBe(false);
  }, 420_000);

  it('refuses a directory that is not empty, changing nothing', async () => {
    using workspace = new TempWorkspace('loki-demo-test-');
    writeFileSync(join(workspace.root, 'notes.txt'), 'mine\n');
    const before = readdirSync(workspace.root);
    const demo = startLoki(workspace, ['demo', '--dir', '.']);
    const result = await demo.done;
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^loki: .* is not empty; give loki demo --dir a new or empty directory\n$/);
    expect(readdirSync(workspace.root)).toEqual(before);
  });
});

/** The demo's HTML report in Chromium: VERIFIED, no console error, nothing fetched, no serious axe violation. */
async function expectReportOpensCleanly(path: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`file://${path}`);
    expect(await page.locator('p.headline').first().textContent()).toBe('VERIFIED (exit 0)');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await seriousAxeViolations(page), scheme).toEqual([]);
    }
    expect(problems).toEqual([]);
    expect(requests).toEqual([`file://${path}`]);
  } finally {
    await browser.close();
  }
}
