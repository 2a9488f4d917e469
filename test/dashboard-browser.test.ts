import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { startDashboard } from '../src/dashboard/server/index.ts';
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
});
