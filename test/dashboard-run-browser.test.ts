import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { lokiProcess, TempWorkspace } from './support/cli-harness.ts';
import { HAS_CHROMIUM, launchChromium, seriousAxeViolations } from './support/dashboard-browser.ts';
import { gateReached, gatedTask, nextEvent, openGate } from './support/gated-task.ts';
import { mergedTaskIds, prepareRun, type RunningLoki, startLoki } from './support/run-harness.ts';
import { StoreEventFollower } from './support/store-events.ts';

const AGENT_XSS = 'Done: <img src=x onerror=alert(1)> and </script><script>alert(2)</script>';

/** Written by an agent that says markup; fails its verification until hold's file is on main. */
const doomedTask = {
  id: 'doomed',
  files: { 'files/doomed.txt': 'doomed\n' },
  verifyCommands: ['test -f files/hold.txt'],
  steps: [
    {
      text: AGENT_XSS,
      toolCalls: [{ toolName: 'write_file', input: { path: 'files/doomed.txt', content: 'doomed\n' } }],
    },
    {
      toolCalls: [
        {
          toolName: 'task_complete',
          input: { summary: 'wrote doomed', files_changed: ['files/doomed.txt'], tests_run: [] },
        },
      ],
    },
  ],
};

function storedEvents(
  root: string,
): Array<{ sequence: number; type: string; taskId: string | null; data: string }> {
  const database = new DatabaseSync(join(root, '.loki', 'loki.db'), { readOnly: true });
  try {
    return database
      .prepare('SELECT sequence, type, task_id AS taskId, data FROM events ORDER BY sequence')
      .all() as Array<{ sequence: number; type: string; taskId: string | null; data: string }>;
  } finally {
    database.close();
  }
}

function startLive(workspace: TempWorkspace, args: readonly string[]): RunningLoki {
  const live = startLoki(workspace, args);
  onTestFinished(() => {
    if (live.child.exitCode === null && live.child.signalCode === null) live.child.kill('SIGKILL');
  });
  return live;
}

const card = (page: Page, column: string, taskId: string) =>
  page.locator(`[data-column="${column}"] [data-task-id="${taskId}"]`);

describe.skipIf(!HAS_CHROMIUM)('the dashboard of a live run, in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows tasks crossing the kanban live; pause holds new tasks, continue resumes them; retry re-queues a dead-lettered task', async () => {
    using workspace = new TempWorkspace();
    using follower = new StoreEventFollower(workspace.root);
    const args = prepareRun(
      workspace,
      { tasks: [doomedTask, gatedTask('hold'), { id: 'next', files: { 'files/next.txt': 'next\n' } }] },
      1,
    );
    const doomedDead = nextEvent(
      follower,
      'doomed dead-lettered',
      (event) => event.type === 'task.dead_lettered' && event.taskId === 'doomed',
    );
    const holdAtGate = gateReached(follower, 'hold');
    const run = startLive(workspace, ['run', 'prd.md', ...args, '--max-task-attempts', '1']);
    await run.waitForOutput(/dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
    const url = /dashboard: (http\S+)/.exec(run.output())?.[1] ?? '';
    expect(lokiProcess(workspace, ['status']).stdout).toContain(`Dashboard: ${url}\n`);

    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(url);
    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await Promise.all([doomedDead, holdAtGate]);
    await card(page, 'failed', 'doomed').waitFor();
    await card(page, 'in-progress', 'hold').waitFor();
    await card(page, 'pending', 'next').waitFor();

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByText('Paused: no new task starts').waitFor();
    await page.locator('.run-line', { hasText: 'paused' }).waitFor();
    const holdMerged = nextEvent(
      follower,
      'hold merged',
      (event) => event.type === 'merge.completed' && event.taskId === 'hold',
    );
    await openGate(workspace.root, 'hold');
    await holdMerged;
    await card(page, 'completed', 'hold').waitFor();
    // Paused: the free agent slot stays free.
    await card(page, 'pending', 'next').waitFor();

    await card(page, 'failed', 'doomed').click();
    const drawer = page.getByRole('dialog');
    await drawer.getByRole('button', { name: 'Retry' }).click();
    await drawer.getByText('Retried: the task is back in the queue.').waitFor();
    await drawer.locator('[data-testid="task-status"]', { hasText: 'pending' }).waitFor();
    await page.keyboard.press('Escape');
    await card(page, 'pending', 'doomed').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    const artifacts = mkdtempSync(join(tmpdir(), 'loki-dashboard-artifacts-'));
    const screenshot = join(artifacts, 'running-dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`running dashboard screenshot: ${screenshot}`);

    // The agent's markup is in the live log as text; nothing of it ran.
    await page.getByRole('link', { name: 'Live log', exact: true }).click();
    await page.locator('.log .text', { hasText: '<img src=x onerror=alert(1)>' }).first().waitFor();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#app script').count()).toBe(0);
    expect(dialogs).toEqual([]);

    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    const ended = await run.done;
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(0);
    await context.close();
    expect(mergedTaskIds(workspace.root).sort()).toEqual(['doomed', 'hold', 'next']);
    const events = storedEvents(workspace.root);
    const paused = events.find((event) => event.type === 'run.paused');
    const continued = events.find(
      (event) => event.type === 'run.continued' && event.sequence > (paused?.sequence ?? 0),
    );
    expect(JSON.parse(paused?.data ?? '{}')).toEqual({ requestedBy: 'dashboard' });
    expect(JSON.parse(continued?.data ?? '{}')).toEqual({ requestedBy: 'dashboard' });
    const claimedWhilePaused = events.filter(
      (event) =>
        event.type === 'task.claimed' &&
        event.sequence > (paused?.sequence ?? 0) &&
        event.sequence < (continued?.sequence ?? 0),
    );
    expect(claimedWhilePaused).toEqual([]);
    expect(events.some((event) => event.type === 'task.retried' && event.taskId === 'doomed')).toBe(true);
    // The run has ended: its dashboard is gone and loki status no longer names it.
    expect(lokiProcess(workspace, ['status']).stdout).not.toContain('Dashboard:');
  }, 180_000);
});
