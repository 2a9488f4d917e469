import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LokiEvent } from '../src/events/index.ts';
import { buildRunReport, type RunReport, writeRunReport } from '../src/orchestrator/index.ts';
import type { RequirementsDocument } from '../src/planning/index.ts';
import { createRedactor } from '../src/sandbox/index.ts';
import { HAS_CHROMIUM, launchChromium, seriousAxeViolations } from './support/dashboard-browser.ts';

const HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

const requirement = (id: string, title: string) => ({
  id,
  title,
  description: title,
  acceptanceCriteria: ['it works'],
  kind: 'functional' as const,
  priority: 'must' as const,
});

function report(options: { testNames: string[]; events?: LokiEvent[] }): RunReport {
  const requirements: RequirementsDocument = {
    requirements: [requirement('REQ-001', `Create a todo ${HOSTILE}`), requirement('REQ-002', 'List todos')],
    assumptions: [],
  };
  return buildRunReport({
    runId: 'run-evidence1',
    status: 'completed',
    exitCode: 0,
    summary: '2 task(s) merged',
    model: 'scripted',
    now: Date.UTC(2025, 0, 2),
    requirements,
    architecture: null,
    tasks: [],
    events: options.events ?? [],
    merged: new Map(),
    mainVerification: {
      commit: 'abc123',
      passed: true,
      health: null,
      gates: [
        {
          command: 'node --test',
          passed: true,
          exitCode: 0,
          durationMilliseconds: 10,
          tests: { passed: options.testNames.length, failed: 0, skipped: 0, framework: 'node:test' },
          testResults: options.testNames.map((name) => ({
            name,
            outcome: 'passed' as const,
            file: null,
            framework: 'node:test' as const,
          })),
          outputTail: '',
        },
      ],
      qualityGates: [],
      blockingGates: [],
    },
    budget: {
      capUsd: 5,
      spentUsd: 1.25,
      reservedUsd: 0,
      remainingUsd: 3.75,
      byTask: {},
      unknownPriceCalls: 0,
    },
  });
}

function finding(round: number, severity: 'Critical' | 'Low', routing: 'fix' | 'todo_comment'): LokiEvent {
  return {
    sequence: round,
    createdAt: 0,
    runId: 'run-evidence1',
    taskId: 'rest-api',
    type: 'review.finding_reported',
    data: {
      reviewer: 'review-security',
      round,
      severity,
      file: 'src/app.js',
      line: 12,
      message: `unescaped title ${HOSTILE}`,
      suggestedFix: 'escape it',
      routing,
    },
  };
}

describe('the evidence report of a run', () => {
  it('is VERIFIED with exit 0 only when every requirement is proven by a passing test that names it', () => {
    const verified = report({ testNames: ['REQ-001 creates', 'todo API > REQ-002 lists'] });
    expect(verified).toMatchObject({ headline: 'VERIFIED', exitCode: 0, status: 'completed', notProven: [] });
    expect(verified.prd).toEqual({ proven: 2, total: 2, percent: 100 });
    expect(verified.gates.find((gate) => gate.gate === 'cost')).toMatchObject({
      verdict: 'pass',
      reason: expect.stringMatching(/^spent \$1\.2500 of a \$5\.00 cap; projected hosting \$0–\$0\/month/),
    });
  });

  it('ends VERIFIED WITH GAPS, exit 3, naming the requirement no test proves', () => {
    const gaps = report({ testNames: ['REQ-001 creates', 'lists todos'] });
    expect(gaps).toMatchObject({ headline: 'VERIFIED WITH GAPS', exitCode: 3, status: 'not_verified' });
    expect(gaps.summary).toContain('PRD proven: 1/2 (50 %)');
    expect(gaps.notProven).toEqual(['REQ-002 (List todos): no test names REQ-002; no gate covers it']);
  });

  it('lists each review finding with its resolution; a blocking one no later round approved is a gap', () => {
    const approved: LokiEvent = {
      sequence: 9,
      createdAt: 0,
      runId: 'run-evidence1',
      taskId: 'rest-api',
      type: 'review.completed',
      data: {
        round: 2,
        outcome: 'approved',
        reviewers: ['review-code', 'review-business', 'review-security'],
        devilsAdvocate: false,
        counts: { critical: 0, high: 0, medium: 0, low: 1, cosmetic: 0 },
        next: 'merge',
      },
    };
    const names = ['REQ-001 creates', 'REQ-002 lists'];
    const fixed = report({
      testNames: names,
      events: [finding(1, 'Critical', 'fix'), finding(2, 'Low', 'todo_comment'), approved],
    });
    expect(fixed.reviewFindings.map((each) => each.resolution)).toEqual([
      'fixed in a later round (round 2 approved)',
      'left as TODO(review) at src/app.js:12',
    ]);
    expect(fixed.headline).toBe('VERIFIED');
    const open = report({ testNames: names, events: [finding(1, 'Critical', 'fix')] });
    expect(open).toMatchObject({ headline: 'VERIFIED WITH GAPS', exitCode: 3 });
    expect(open.notProven[0]).toMatch(
      /^Critical review finding on rest-api \(src\/app\.js:12\) by review-security: open/,
    );
  });
});

describe.skipIf(!HAS_CHROMIUM)('the evidence report as an HTML page, in Chromium', () => {
  let browser: Browser | undefined;
  let directory: string;
  beforeAll(async () => {
    browser = await launchChromium();
    directory = mkdtempSync(join(tmpdir(), 'loki-evidence-report-'));
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('opens standalone with no console error, shows model-written markup as text and passes axe in light and dark', async () => {
    const written = writeRunReport(
      directory,
      report({ testNames: ['REQ-001 creates'], events: [finding(1, 'Critical', 'fix')] }),
      createRedactor(),
    );
    const html = readFileSync(written.html, 'utf8');
    expect(html).not.toMatch(/<script|<img|https?:\/\//);
    const page = await (browser as Browser).newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`file://${written.html}`);
    await page.getByText('VERIFIED WITH GAPS').first().waitFor();
    expect(
      await page.getByRole('cell', { name: `REQ-001 Create a todo ${HOSTILE}`, exact: true }).count(),
    ).toBe(1);
    expect(await page.getByText('PRD proven: 1/2 (50 %)', { exact: true }).count()).toBe(1);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await seriousAxeViolations(page), scheme).toEqual([]);
    }
    expect(problems).toEqual([]);
    expect(requests).toEqual([`file://${written.html}`]);
    await page.close();
  }, 120_000);
});
