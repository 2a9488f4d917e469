import { singleAttempt } from './support/single-attempt.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runClaudeCodeSubmission } from '../src/planning/index.ts';
import { runBlindReview } from '../src/review/index.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import type { RecordedRequest } from './fakes/fake-http-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';

const retry = singleAttempt('claude-code');

/** Which reviewer a conversation belongs to, told by the role prompt's title in its system prompt. */
const REVIEWER_TITLES = {
  'review-code': '# Code reviewer',
  'review-business': '# Business logic reviewer',
  'review-security': '# Security reviewer',
} as const;

const FINDINGS = {
  'review-code': [],
  'review-business': [
    {
      severity: 'Medium',
      file: 'src/add.ts',
      line: 1,
      message: 'BUSINESS-ONLY: negative numbers are not covered',
      suggestedFix: 'add a test',
    },
  ],
  'review-security': [
    {
      severity: 'Low',
      file: 'src/add.ts',
      line: 2,
      message: 'SECURITY-ONLY: no input check',
      suggestedFix: 'check the types',
    },
  ],
};

function textOf(request: RecordedRequest): string {
  return JSON.stringify(request.body);
}

function reviewerOf(request: RecordedRequest): keyof typeof REVIEWER_TITLES | null {
  const body = request.body as { system?: unknown };
  const system = JSON.stringify(body.system ?? '');
  for (const [reviewer, title] of Object.entries(REVIEWER_TITLES)) {
    if (system.includes(title)) return reviewer as keyof typeof REVIEWER_TITLES;
  }
  return null;
}

let api: ClaudeCodeFakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('blind review on Claude Code', () => {
  it('runs the three reviewers as parallel Claude Code sessions that hand in through submit_review, none seeing another’s findings', async () => {
    await using home = await createClaudeCodeHome();
    const directory = await mkdtemp(join(tmpdir(), 'loki-claude-review-'));
    // The three sessions run at once, so replies are routed by the reviewer the request comes
    // from: its first turn submits its review, the turn after the tool result ends the session.
    api = await startClaudeCodeFakeApi({
      route: (request) => {
        const reviewer = reviewerOf(request);
        if (reviewer === null) return undefined;
        if (textOf(request).includes('tool_result')) return fakeReply.text('Submitted.');
        return fakeReply.toolCall('mcp__loki__submit_review', {
          summary: `${reviewer} looked at it`,
          findings: FINDINGS[reviewer],
        });
      },
    });
    try {
      const result = await runBlindReview({
        subject: {
          taskId: 'add',
          agentType: 'eng-backend',
          title: 'Add two numbers',
          description: 'add(a, b)',
          acceptanceCriteria: ['add(2, 3) is 5'],
          requirements: ['REQ-001: Addition: adds two numbers'],
          diff: '+export function add(a, b) {\n+  return a + b;\n+}\n',
          round: 1,
        },
        changedFiles: new Map([['src/add.ts', 3]]),
        allowDevilsAdvocate: true,
        run: (_reviewer, spec) =>
          runClaudeCodeSubmission(
            spec,
            { emit: () => {}, retry, runId: null },
            {
              workingDirectory: directory,
              env: home.environment(api ?? { baseUrl: '' }),
              executablePath: CLAUDE_CODE_EXECUTABLE,
              timeoutMilliseconds: 120_000,
            },
          ),
      });

      expect(result.devilsAdvocateRan).toBe(false);
      expect(result.reports.map((report) => [report.reviewer, report.findings])).toEqual([
        ['review-code', []],
        ['review-business', FINDINGS['review-business']],
        ['review-security', FINDINGS['review-security']],
      ]);
      const conversations = api.conversationRequests();
      expect(new Set(conversations.map(reviewerOf))).toEqual(
        new Set(['review-code', 'review-business', 'review-security']),
      );
      for (const request of conversations) {
        const reviewer = reviewerOf(request);
        const seen = textOf(request);
        // The diff reached each reviewer; another reviewer's finding never did.
        expect(seen).toContain('return a + b;');
        if (reviewer !== 'review-business') expect(seen).not.toContain('BUSINESS-ONLY');
        if (reviewer !== 'review-security') expect(seen).not.toContain('SECURITY-ONLY');
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 240_000);
});
