/**
 * Blind review on Codex: the real binary (through the Codex SDK, as `loki run` drives it) against
 * the fake Responses API. The three reviewers run as parallel Codex sessions, each offered only
 * `submit_review` from `loki mcp-tools`, which checks a finding's file and line against the
 * change; an invalid review is answered with its errors and Loki counts the repair round.
 */
import { singleAttempt } from './support/single-attempt.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentSource, createAgentSource } from '../src/orchestrator/index.ts';
import { type ReviewerName, runBlindReview } from '../src/review/index.ts';
import { PlainRunner } from '../src/sandbox/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import type { RecordedRequest } from './fakes/fake-http-server.ts';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { lokiToolsOffered, submissionCall } from './support/codex-session.ts';

const API_KEY = 'sk-openai-codex-review-test';

const retry = singleAttempt('codex');

/** Which reviewer a conversation belongs to, told by the role prompt's title in front of its prompt. */
const REVIEWER_TITLES = {
  'review-code': '# Code reviewer',
  'review-business': '# Business logic reviewer',
  'review-security': '# Security reviewer',
} as const;
type BlindReviewer = keyof typeof REVIEWER_TITLES;

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

function reviewerOf(request: RecordedRequest): BlindReviewer | null {
  for (const [reviewer, title] of Object.entries(REVIEWER_TITLES)) {
    if (request.rawBody.includes(title)) return reviewer as BlindReviewer;
  }
  return null;
}

function toolResultsOf(request: RecordedRequest): number {
  const input = (request.body as { input?: { type?: string }[] }).input ?? [];
  return input.filter((item) => item.type === 'function_call_output').length;
}

let logsDirectory: string;
let api: FakeOpenAIServer;
let codexHome: FakeCodexHome;
let source: AgentSource;

beforeEach(async () => {
  logsDirectory = await mkdtemp(join(tmpdir(), 'loki-codex-review-'));
  // The security reviewer first points at a file the change does not have, and is told so.
  api = await startFakeOpenAIServer({
    expectedApiKey: API_KEY,
    defaultReply: fakeReply.text('Done.'),
    route: (request) => {
      const reviewer = reviewerOf(request);
      if (reviewer === null || lokiToolsOffered(request).length === 0) return undefined;
      const results = toolResultsOf(request);
      const findings =
        reviewer === 'review-security' && results === 0
          ? [{ ...FINDINGS['review-security'][0], file: 'src/missing.ts' }]
          : FINDINGS[reviewer];
      const submitted = reviewer === 'review-security' ? results >= 2 : results >= 1;
      if (submitted) return fakeReply.text('Submitted.');
      return submissionCall('submit_review', { summary: `${reviewer} looked at it`, findings });
    },
  });
  codexHome = new FakeCodexHome(api.baseUrl);
  source = createAgentSource({
    provider: 'codex',
    env: {
      PATH: process.env.PATH,
      HOME: codexHome.path,
      CODEX_HOME: codexHome.path,
      OPENAI_API_KEY: API_KEY,
    },
    runner: new PlainRunner(),
    logsDirectory,
    modelOverrides: {},
  });
});

afterEach(async () => {
  codexHome[Symbol.dispose]();
  await api.close();
  await rm(logsDirectory, { recursive: true, force: true });
});

describe('blind review on Codex', () => {
  it('runs the three reviewers as parallel Codex sessions through submit_review, none seeing another’s findings', async () => {
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
      run: (reviewer: ReviewerName, spec) =>
        source.runSubmission({ review: { taskId: 'add', reviewer, round: 1 } }, spec, {
          emit: () => {},
          retry,
          runId: null,
        }),
    });

    expect(result.devilsAdvocateRan).toBe(false);
    expect(result.reports.map((report) => [report.reviewer, report.findings])).toEqual([
      ['review-code', []],
      ['review-business', FINDINGS['review-business']],
      ['review-security', FINDINGS['review-security']],
    ]);
    const conversations = api.modelRequests().filter((request) => reviewerOf(request) !== null);
    expect(new Set(conversations.map(reviewerOf))).toEqual(
      new Set(['review-code', 'review-business', 'review-security']),
    );
    for (const request of conversations) {
      // Each reviewer was offered submit_review alone, and saw the diff but no other reviewer's finding.
      expect(lokiToolsOffered(request)).toEqual(['submit_review']);
      const seen = request.rawBody;
      expect(seen).toContain('return a + b;');
      if (reviewerOf(request) !== 'review-business') expect(seen).not.toContain('BUSINESS-ONLY');
      if (reviewerOf(request) !== 'review-security') expect(seen).not.toContain('SECURITY-ONLY');
    }
    // The server told the security reviewer what was wrong with its first review.
    const securityLast = conversations.filter((request) => reviewerOf(request) === 'review-security').at(-1);
    expect(securityLast?.rawBody).toContain('src/missing.ts');
  }, 240_000);
});
