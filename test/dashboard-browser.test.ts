import { gateEvaluated } from './support/gate-event.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { startDashboard } from '../src/dashboard/server/index.ts';
import type { WorkerHeartbeat } from '../src/store/index.ts';
import { openWorkspaceStore, workspacePaths } from '../src/workspace/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { HAS_CHROMIUM, launchChromium, seriousAxeViolations } from './support/dashboard-browser.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)> </script><script>alert(2)</script>';
const VIEWS = ['overview', 'agents', 'tasks', 'log', 'continuity'] as const;

/** Dialogs the page opened (alert() from injected markup would be one). */
function watchDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return dialogs;
}

async function openView(page: Page, view: string): Promise<void> {
  await page.getByRole('link', { name: viewLabel(view), exact: true }).click();
  await page.locator(`#${view === 'tasks' ? 'kanban' : view}-heading`).waitFor();
}

function viewLabel(view: string): string {
  return (
    { overview: 'Overview', agents: 'Agents', tasks: 'Tasks', log: 'Live log', continuity: 'CONTINUITY' }[
      view
    ] ?? view
  );
}

describe.skipIf(!HAS_CHROMIUM)('the dashboard in Chromium, on a workspace', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('loads with the token, shows model-written markup as text, is usable by keyboard and passes axe in light and dark', async () => {
    using workspace = new TempWorkspace();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using dashboard = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: 0,
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = watchDialogs(page);

    const refused = await page.goto(dashboard.url.replace(/\?token=.*/, ''));
    expect(refused?.status()).toBe(401);
    await page.goto(dashboard.url);
    expect(new URL(page.url()).search).toBe('');
    await page.getByRole('heading', { name: 'Loki Mode' }).waitFor();

    // A task added from the page with markup in its title.
    await page.getByLabel('New task').fill(XSS_TITLE);
    await page.getByRole('button', { name: 'Add task' }).click();
    await page.getByText(/^Added task-/).waitFor();
    await openView(page, 'tasks');
    const card = page.locator('[data-column="pending"] .card-title');
    await expect.poll(() => card.textContent()).toBe(XSS_TITLE);

    // By keyboard: focus the card, Enter opens the drawer, Escape closes it.
    await page.locator('[data-column="pending"] .card').focus();
    await page.keyboard.press('Enter');
    const drawer = page.getByRole('dialog');
    await expect.poll(() => drawer.getByRole('heading', { level: 2 }).textContent()).toBe(XSS_TITLE);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await expect.poll(() => drawer.count()).toBe(0);

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const view of VIEWS) {
        await openView(page, view);
        expect(await seriousAxeViolations(page), `${view} (${scheme})`).toEqual([]);
      }
    }
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#app script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    const artifacts = mkdtempSync(join(tmpdir(), 'loki-dashboard-artifacts-'));
    const screenshot = join(artifacts, 'workspace-dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`dashboard screenshot: ${screenshot}`);
    expect(await page.getByText('Loading the dashboard').count()).toBe(0);
    await context.close();
  }, 120_000);

  it('renders a snapshot with the newest events and loads older ones on demand; shows gate verdicts and review findings as text, live', async () => {
    using workspace = new TempWorkspace();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using store = await openWorkspaceStore(workspacePaths(workspace.root), systemClock);
    await seedReviewedTask(store);
    // More events than the live log keeps: the page must not replay them to draw itself.
    for (let index = 0; index < 2500; index += 1) {
      await store.appendEvent({
        type: 'agent.text',
        runId: null,
        taskId: null,
        data: { text: `old ${index}` },
      });
    }
    await using dashboard = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: 0,
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = watchDialogs(page);
    await page.goto(dashboard.url);

    const unitTests = page.locator('[data-gate="unit-tests"]');
    await expect.poll(() => unitTests.locator('.verdict').textContent()).toBe('fail');
    expect(await unitTests.locator('.reason').textContent()).toBe(XSS_TITLE);
    expect(await page.locator('[data-gate="lint"] .verdict').textContent()).toBe('not proven');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await seriousAxeViolations(page), `overview with gates (${scheme})`).toEqual([]);
    }

    await openView(page, 'log');
    const count = page.getByTestId('log-count');
    await expect.poll(() => count.textContent()).toBe('200 of 200 loaded events');
    await page.getByRole('button', { name: 'Load older events' }).click();
    await expect.poll(() => count.textContent()).toBe('700 of 700 loaded events');
    await page.locator('.log .text', { hasText: /^old 1900$/ }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Live after the snapshot: a new verdict replaces the gate's row, a new event enters the log.
    await store.appendEvent({
      type: 'gate.evaluated',
      runId: null,
      taskId: null,
      data: gateEvaluated({
        gate: 'unit-tests',
        verdict: 'pass',
        reason: '4 tests passed',
        commit: 'c'.repeat(40),
        counts: { passed: 4, failed: 0, skipped: 0, framework: 'vitest' },
      }),
    });
    await page.locator('.log .text', { hasText: 'unit-tests pass: 4 tests passed' }).waitFor();
    await openView(page, 'overview');
    await expect.poll(() => unitTests.locator('.verdict').textContent()).toBe('pass');
    expect(await unitTests.locator('td').nth(2).textContent()).toBe('4 passed, 0 failed, 0 skipped (vitest)');

    await openView(page, 'tasks');
    await page.locator('[data-task-id="reviewed"]').click();
    const drawer = page.getByRole('dialog');
    const finding = drawer.getByTestId('review-finding');
    await expect.poll(() => finding.count()).toBe(2);
    expect(await finding.first().locator('.finding-message').textContent()).toBe(XSS_TITLE);
    expect(await finding.first().locator('pre').textContent()).toBe(`fix: ${XSS_TITLE}`);
    expect(await drawer.getByTestId('review-round').first().textContent()).toMatch(
      /^Round 1: changes requested \(1 critical, 0 high, 0 medium, 1 low, 0 cosmetic\), next: fix$/,
    );
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await seriousAxeViolations(page), `drawer with review findings (${scheme})`).toEqual([]);
    }
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#app script, dialog script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await context.close();
  }, 120_000);

  it('shows the workers by machine, what they say of themselves as text, a silent one as lost, and passes axe', async () => {
    using workspace = new TempWorkspace();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using store = await openWorkspaceStore(workspacePaths(workspace.root), systemClock);
    await store.insertTasks([{ ...SEED_TASK, id: 'held' }]);
    const beat = (id: string, machine: string, overrides: Partial<WorkerHeartbeat> = {}) =>
      store.recordWorkerHeartbeat({
        id,
        machine,
        pid: 4242,
        role: 'worker',
        runId: null,
        parallel: 4,
        types: null,
        heartbeatMilliseconds: 600_000,
        ...overrides,
      });
    await beat('run:run-1:4242', 'build-1', { role: 'run', runId: 'run-1', parallel: 2 });
    // A process writes its own machine name and types: markup there must stay text.
    await beat('worker:x:7', XSS_TITLE, { types: [XSS_TITLE, 'eng-backend'] });
    await store.claimTask({ workerId: 'worker:x:7:w1', taskId: 'held' });
    // A heartbeat every millisecond that has not come again for longer than three: lost.
    await beat('worker:quiet:9', 'build-1', { heartbeatMilliseconds: 1 });
    await using dashboard = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: 0,
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = watchDialogs(page);
    await page.goto(dashboard.url);
    await openView(page, 'agents');
    await page.locator('#workers-heading').waitFor();

    const machines = page.locator('.machine-name');
    await expect.poll(() => machines.allTextContents()).toEqual([XSS_TITLE, 'build-1']);
    const marked = page.locator('[data-worker="worker:x:7"]');
    expect(await marked.locator('.worker-types').textContent()).toBe(`${XSS_TITLE}, eng-backend`);
    expect(await marked.locator('td').last().textContent()).toBe('held');
    expect(await page.locator('[data-worker="worker:quiet:9"] .worker-state').textContent()).toBe('lost');
    expect(await page.locator('[data-worker="run:run-1:4242"] .worker-state').textContent()).toBe('active');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await seriousAxeViolations(page), `workers by machine (${scheme})`).toEqual([]);
    }
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#app script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await context.close();
  }, 120_000);
});

const SEED_TASK = {
  id: 'seed',
  type: 'eng-backend',
  title: 'Seed task',
  description: '',
  priority: 5,
  dependencies: [],
  payload: null,
  idempotencyKey: null,
  runId: null,
  timeoutSeconds: 600,
  maxAttempts: 3,
};

/** A task with one review round (findings whose text is markup) and gate verdicts, the latest failing. */
async function seedReviewedTask(store: Awaited<ReturnType<typeof openWorkspaceStore>>): Promise<void> {
  await store.insertTasks([
    {
      id: 'reviewed',
      type: 'eng-backend',
      title: 'Reviewed task',
      description: '',
      priority: 5,
      dependencies: [],
      payload: null,
      idempotencyKey: null,
      runId: null,
      timeoutSeconds: 600,
      maxAttempts: 3,
    },
  ]);
  const finding = {
    reviewer: 'review-security',
    round: 1,
    file: 'src/app.ts',
    line: 12,
    message: XSS_TITLE,
    suggestedFix: `fix: ${XSS_TITLE}`,
  };
  await store.appendEvent({
    type: 'review.finding_reported',
    runId: null,
    taskId: 'reviewed',
    data: { ...finding, severity: 'Critical', routing: 'fix' },
  });
  await store.appendEvent({
    type: 'review.finding_reported',
    runId: null,
    taskId: 'reviewed',
    data: { ...finding, line: 30, severity: 'Low', routing: 'todo_comment' },
  });
  await store.appendEvent({
    type: 'review.completed',
    runId: null,
    taskId: 'reviewed',
    data: {
      round: 1,
      outcome: 'changes_requested',
      reviewers: ['review-code', 'review-business', 'review-security'],
      devilsAdvocate: false,
      counts: { critical: 1, high: 0, medium: 0, low: 1, cosmetic: 0 },
      next: 'fix',
    },
  });
  const commit = 'b'.repeat(40);
  const gate = (name: string, verdict: 'pass' | 'fail' | 'not-proven', reason: string) =>
    store.appendEvent({
      type: 'gate.evaluated',
      runId: null,
      taskId: null,
      data: gateEvaluated({ gate: name, verdict, reason, commit }),
    });
  await gate('unit-tests', 'pass', 'all tests passed');
  await gate('lint', 'not-proven', 'no linter configured');
  await gate('unit-tests', 'fail', XSS_TITLE);
}
