import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { notRun } from './command-gates.ts';
import type { Gate } from './gate.ts';
import { type AppGateJudgement, DEFAULT_STARTUP_TIMEOUT_MILLISECONDS, runAppGate } from './run-app-gate.ts';

export interface AccessibilityGateOptions {
  /** Chromium's executable; by default LOKI_CHROMIUM_PATH, else /usr/bin/chromium. */
  chromiumPath?: string;
  /** axe-core impacts that fail the gate. */
  failingImpacts: readonly string[];
  /** axe-core rule tags checked: WCAG 2.1 level A and AA. */
  tags: readonly string[];
  startupTimeoutMilliseconds: number;
}

export const DEFAULT_ACCESSIBILITY_OPTIONS: AccessibilityGateOptions = {
  failingImpacts: ['serious', 'critical'],
  tags: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'],
  startupTimeoutMilliseconds: DEFAULT_STARTUP_TIMEOUT_MILLISECONDS,
};

interface Violation {
  page: string;
  id: string;
  impact: string;
  target: string;
  help: string;
}

const PAGE_TIMEOUT_MILLISECONDS = 30_000;

/**
 * Accessibility: axe-core in a headless Chromium (driven by playwright-core, outside the sandbox,
 * talking to the sandboxed app over loopback) on each of the app's routes that answers HTML;
 * serious and critical WCAG 2.1 A/AA violations fail. The pages are the app's, so model-written:
 * the browser may load nothing but the app's own origin.
 */
export function createAccessibilityGate(overrides: Partial<AccessibilityGateOptions> = {}): Gate {
  const options = { ...DEFAULT_ACCESSIBILITY_OPTIONS, ...overrides };
  return {
    name: 'accessibility',
    description: `no ${options.failingImpacts.join(' or ')} WCAG 2.1 AA violation (axe-core in Chromium) on the app's pages`,
    run: (context) => {
      const chromiumPath = chromiumPathOf(options);
      if (chromiumPath.missing !== null)
        return Promise.resolve(notRun('accessibility', chromiumPath.missing, []));
      return runAppGate(context, 'accessibility', options.startupTimeoutMilliseconds, (app, launch) =>
        checkAccessibility(app.url, launch.routes, options),
      );
    },
  };
}

/** Where Chromium is, or why the gate cannot run (`missing`). */
function chromiumPathOf(options: AccessibilityGateOptions): { path: string; missing: string | null } {
  const path = options.chromiumPath ?? process.env.LOKI_CHROMIUM_PATH ?? '/usr/bin/chromium';
  return {
    path,
    missing: existsSync(path)
      ? null
      : `tool missing: no Chromium at ${path} (install it, e.g. apt-get install chromium, or set LOKI_CHROMIUM_PATH to a Chromium executable)`,
  };
}

/**
 * The accessibility gate's judgement of the app answering at `url`, whoever started it: the gate's
 * own sandboxed copy, or a deployed release. Not proven without Chromium or without an HTML page.
 */
export async function checkAccessibility(
  url: string,
  routes: readonly string[],
  overrides: Partial<AccessibilityGateOptions> = {},
): Promise<AppGateJudgement> {
  const options = { ...DEFAULT_ACCESSIBILITY_OPTIONS, ...overrides };
  const chromium = chromiumPathOf(options);
  const tool = `axe-core ${axeVersion()} in Chromium (${options.tags.join(', ')})`;
  if (chromium.missing !== null)
    return { verdict: 'not-proven', reason: chromium.missing, details: '', tool };
  const pages = await htmlPages(url, routes);
  if (pages.length === 0) {
    return {
      verdict: 'not-proven',
      reason: `not applicable: no route answered an HTML page (tried ${routes.join(', ')})`,
      details: '',
      tool,
    };
  }
  const violations = await checkPages(url, pages, chromium.path, options);
  return judge(pages, violations, options, tool);
}

function judge(
  pages: readonly string[],
  violations: readonly Violation[],
  options: AccessibilityGateOptions,
  tool: string,
): AppGateJudgement {
  const failing = violations.filter((each) => options.failingImpacts.includes(each.impact));
  const rules = [...new Set(failing.map((each) => `${each.id} (${each.impact})`))];
  return {
    verdict: failing.length === 0 ? 'pass' : 'fail',
    reason:
      failing.length === 0
        ? `no ${options.failingImpacts.join(' or ')} violation on ${pages.length === 1 ? '1 page' : `${String(pages.length)} pages`} (${pages.join(', ')}); ${String(violations.length)} lesser`
        : `${String(failing.length)} ${options.failingImpacts.join('/')} violations: ${rules.join(', ')}`,
    details: violations
      .map((each) => `${each.page} ${each.impact} ${each.id} at ${each.target}: ${each.help}`)
      .join('\n'),
    table: {
      columns: ['page', 'id', 'impact', 'target', 'help'],
      rows: violations.map((each) => [each.page, each.id, each.impact, each.target, each.help]),
    },
    tool,
  };
}

/** The routes that answer 2xx with an HTML document. */
async function htmlPages(url: string, routes: readonly string[]): Promise<string[]> {
  const pages: string[] = [];
  for (const route of routes) {
    const response = await fetch(url + route, { signal: AbortSignal.timeout(PAGE_TIMEOUT_MILLISECONDS) });
    await response.body?.cancel();
    if (response.ok && /text\/html|application\/xhtml/i.test(response.headers.get('content-type') ?? '')) {
      pages.push(route);
    }
  }
  return pages;
}

async function checkPages(
  origin: string,
  pages: readonly string[],
  chromiumPath: string,
  options: AccessibilityGateOptions,
): Promise<Violation[]> {
  // Imported here, not at the top: playwright-core takes a large share of the CLI's start-up, which
  // every command (a `loki rollback` among them) would pay for without ever launching a browser.
  const { chromium } = await import('playwright-core');
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Chromium's own sandbox needs user namespaces, which root in a container lacks.
    chromiumSandbox: process.getuid?.() !== 0,
  });
  try {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    await context.route('**/*', (route) =>
      new URL(route.request().url()).origin === origin ? route.continue() : route.abort('blockedbyclient'),
    );
    const violations: Violation[] = [];
    for (const path of pages) {
      const page = await context.newPage();
      await page.goto(origin + path, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MILLISECONDS });
      violations.push(...(await runAxe(page, path, options.tags)));
      await page.close();
    }
    return violations;
  } finally {
    await browser.close();
  }
}

const axeRequire = createRequire(import.meta.url);

function axeVersion(): string {
  const manifest = JSON.parse(readFileSync(axeRequire.resolve('axe-core/package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? '';
}

type AxePage = Awaited<ReturnType<Browser['newPage']>>;

/** axe-core evaluated through the DevTools protocol, so a page's script policy cannot block it. */
async function runAxe(page: AxePage, path: string, tags: readonly string[]): Promise<Violation[]> {
  await page.evaluate(readFileSync(axeRequire.resolve('axe-core/axe.min.js'), 'utf8'));
  const found = await page.evaluate(async (runOnly) => {
    const { axe, document } = globalThis as unknown as {
      axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> };
      document: unknown;
    };
    const result = await axe.run(document, { runOnly: { type: 'tag', values: runOnly } });
    return result.violations as {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: unknown[] }[];
    }[];
  }, tags as string[]);
  return found.flatMap((violation) =>
    violation.nodes.map((node) => ({
      page: path,
      id: violation.id,
      impact: violation.impact ?? 'unknown',
      target: node.target.map(String).join(' '),
      help: violation.help,
    })),
  );
}

export const accessibilityGate = createAccessibilityGate();
