import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock/index.ts';
import { loadCircuitBreakerConfig, loadConfig } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import { ensureInitialCommit } from '../git/index.ts';
import { runSubmissionAgent } from '../planning/index.ts';
import {
  createScriptedLanguageModel,
  parseScriptedSession,
  reviewScriptOf,
  type ScriptedSessionInput,
} from '../providers/index.ts';
import { buildSandboxEnvironment, PlainRunner } from '../sandbox/index.ts';
import { initWorkspace, openWorkspace, type Workspace } from '../workspace/index.ts';
import { type AgentSource, createAgentSource } from './agent-source.ts';
import { MergeQueue } from './merge-queue.ts';
import { MergedWorkIndex } from './merged-work.ts';
import { type TaskWorkerContext, workOnTask } from './task-worker.ts';

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const write = (path: string, content: string) => ({
  toolCalls: [{ toolName: 'write_file', input: { path, content } }],
});
const complete = (summary: string) => ({
  toolCalls: [{ toolName: 'task_complete', input: { summary, files_changed: [], tests_run: [] } }],
});

interface Finding {
  severity: 'Critical' | 'High' | 'Medium' | 'Low' | 'Cosmetic';
  file: string;
  line: number;
  message: string;
  suggestedFix: string;
}
/** A reviewer's script: one submit_review call. */
const review = (summary: string, findings: Finding[] = []) => [
  { toolCalls: [{ toolName: 'submit_review', input: { summary, findings } }] },
];

const UNSAFE_ADD = "export function add(a, b) {\n  return eval(a + '+' + b);\n}\n";
const SAFE_ADD = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n';
const CRITICAL: Finding = {
  severity: 'Critical',
  file: 'src/add.ts',
  line: 2,
  message: 'eval runs whatever the caller passes',
  suggestedFix: 'add the numbers directly',
};
const LOW: Finding = {
  severity: 'Low',
  file: 'src/add.ts',
  line: 2,
  message: 'overflow beyond MAX_SAFE_INTEGER is not handled',
  suggestedFix: 'document the range',
};
const COSMETIC: Finding = {
  severity: 'Cosmetic',
  file: 'src/add.ts',
  line: 1,
  message: 'no doc comment',
  suggestedFix: 'add a one-line doc comment',
};

/** What one reviewer's model was sent on its first call: its system prompt and messages. */
interface ReviewerCall {
  reviewer: string;
  round: number;
  prompt: string;
}

describe('blind review before the merge', () => {
  let root: string;
  let workspace: Workspace;
  let mainBranch: string;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-review-step-'));
    await initWorkspace({ root, clock: systemClock });
    await ensureInitialCommit(root);
    workspace = await openWorkspace(root, { clock: systemClock });
    mainBranch = git(root, ['symbolic-ref', '--short', 'HEAD']).trim();
  });
  afterEach(async () => {
    await workspace.close();
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * Runs task `add` once under a scripted session. Reviewers run on the scripted model like every
   * planning agent; the prompt of each reviewer's first model call is recorded as the model got it.
   */
  async function runTask(
    sessionInput: ScriptedSessionInput,
    configEnv: Record<string, string> = {},
    recordReviewers = true,
  ) {
    const env = { PATH: process.env.PATH, HOME: root };
    const session = parseScriptedSession(sessionInput);
    const runner = new PlainRunner();
    const scriptedSource = createAgentSource({
      provider: 'scripted',
      env,
      runner,
      logsDirectory: workspace.paths.logsDirectory,
      modelOverrides: {},
      scripted: { session, origin: 'inline session' },
    });
    const reviewerCalls: ReviewerCall[] = [];
    const agentPrompts: string[] = [];
    const source: AgentSource = {
      ...scriptedSource,
      runSubmission: (phase, spec, options) => {
        // The scripted source's own way to its review scripts, unrecorded.
        if (!recordReviewers) return scriptedSource.runSubmission(phase, spec, options);
        if (typeof phase !== 'object' || !('review' in phase)) throw new Error('not a review');
        const model = createScriptedLanguageModel(reviewScriptOf(session, phase.review));
        const doStream = model.doStream.bind(model);
        let calls = 0;
        model.doStream = async (callOptions) => {
          calls += 1;
          if (calls === 1) {
            const { reviewer, round } = phase.review;
            reviewerCalls.push({ reviewer, round, prompt: JSON.stringify(callOptions.prompt) });
          }
          return doStream(callOptions);
        };
        return runSubmissionAgent(spec, { ...options, model, provider: 'scripted' });
      },
      createTaskAgent: (request) => {
        const agent = scriptedSource.createTaskAgent(request);
        return {
          runtime: agent.runtime,
          act: (round) => {
            agentPrompts.push(round.prompt);
            return agent.act(round);
          },
        };
      },
    };
    await workspace.queue.enqueue({
      id: 'add',
      type: 'eng-backend',
      title: 'Add two numbers',
      runId: 'run-1',
      timeoutSeconds: 60,
      payload: { verifyCommands: ['test -f src/add.ts'], acceptanceCriteria: ['add(2, 3) is 5'] },
    });
    const task = await workspace.queue.claim({ workerId: 'worker-1' });
    if (task === null) throw new Error('the task was not claimable');
    const events: NewEvent[] = [];
    const context: TaskWorkerContext = {
      workspace,
      source,
      runner,
      verifyEnvironment: buildSandboxEnvironment(env),
      config: loadConfig({ workspaceRoot: root, env: configEnv }).values,
      breakerConfig: loadCircuitBreakerConfig(root),
      clock: systemClock,
      runId: 'run-1',
      mainBranch,
      mergeQueue: new MergeQueue({
        repositoryRoot: root,
        workDirectory: join(workspace.paths.lokiDirectory, 'worktrees'),
        commandRunner: runner,
        verifyEnvironment: buildSandboxEnvironment(env),
        mainBranch,
      }),
      governor: null,
      merged: await MergedWorkIndex.load(root, mainBranch),
      emit: (event) => events.push(event),
      signal: new AbortController().signal,
      roundsPerAttempt: 2,
      maxSteps: 10,
      projectGates: () => Promise.resolve([]),
    };
    const outcome = await workOnTask(task, 'worker-1', context);
    return { outcome, events, reviewerCalls, agentPrompts };
  }

  const eventsOf = <Type extends NewEvent['type']>(events: NewEvent[], type: Type) =>
    events.filter((event): event is Extract<NewEvent, { type: Type }> => event.type === type);

  it('blocks the merge on a Critical finding, sends it back as fix work, reviews again, then writes Low and Cosmetic as comments', async () => {
    const { outcome, events, reviewerCalls, agentPrompts } = await runTask({
      discovery: [{ text: 'unused' }],
      architecture: [{ text: 'unused' }],
      tasks: {
        // The fix round continues the same agent session: its script goes on after the first task_complete.
        add: [
          write('src/add.ts', UNSAFE_ADD),
          complete('add'),
          write('src/add.ts', SAFE_ADD),
          complete('fixed'),
        ],
      },
      reviews: {
        add: {
          'review-code': [review('fine'), review('fine, one note', [LOW])],
          'review-business': [review('meets the criteria'), review('meets them', [COSMETIC])],
          'review-security': [review('unsafe', [CRITICAL]), review('safe now')],
        },
      },
    });

    expect(outcome).toBe('merged');
    const order = events
      .filter((event) => ['review.completed', 'agent.started', 'merge.completed'].includes(event.type))
      .map((event) => (event.type === 'review.completed' ? `review:${event.data.next}` : event.type));
    // The first review blocked the merge: the agent worked again before the second review let it through.
    expect(order).toEqual([
      'agent.started',
      'review:fix',
      'agent.started',
      'review:merge',
      'merge.completed',
    ]);
    expect(eventsOf(events, 'review.completed').map((event) => event.data)).toEqual([
      expect.objectContaining({
        round: 1,
        outcome: 'changes_requested',
        devilsAdvocate: false,
        counts: { critical: 1, high: 0, medium: 0, low: 0, cosmetic: 0 },
      }),
      expect.objectContaining({
        round: 2,
        outcome: 'approved',
        counts: { critical: 0, high: 0, medium: 0, low: 1, cosmetic: 1 },
      }),
    ]);
    expect(eventsOf(events, 'review.finding_reported').map((event) => event.data)).toEqual([
      { reviewer: 'review-security', round: 1, ...CRITICAL, routing: 'fix' },
      { reviewer: 'review-code', round: 2, ...LOW, routing: 'todo_comment' },
      { reviewer: 'review-business', round: 2, ...COSMETIC, routing: 'nitpick_comment' },
    ]);
    // The fix round's prompt carries the blocking finding, its place and the suggested fix.
    expect(agentPrompts).toHaveLength(2);
    expect(agentPrompts[1]).toContain(
      `[Critical] src/add.ts:2: ${CRITICAL.message} Suggested fix: ${CRITICAL.suggestedFix}`,
    );
    expect(reviewerCalls).toHaveLength(6);
    // Main holds the fixed code with the comments at their lines, in the file's comment syntax.
    expect(git(root, ['show', `${mainBranch}:src/add.ts`])).toBe(
      [
        `// FIXME(nitpick): ${COSMETIC.message} Suggested fix: ${COSMETIC.suggestedFix}`,
        'export function add(a: number, b: number): number {',
        `  // TODO(review): ${LOW.message} Suggested fix: ${LOW.suggestedFix}`,
        '  return a + b;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('never shows a reviewer what another reviewer found', async () => {
    const { reviewerCalls } = await runTask({
      discovery: [{ text: 'unused' }],
      architecture: [{ text: 'unused' }],
      tasks: {
        add: [
          write('src/add.ts', UNSAFE_ADD),
          complete('add'),
          write('src/add.ts', SAFE_ADD),
          complete('fixed'),
        ],
      },
      reviews: {
        add: {
          'review-code': [review('one note', [{ ...LOW, message: 'CODE-FINDING-R1' }]), review('ok', [LOW])],
          'review-business': [review('hm', [{ ...COSMETIC, message: 'BUSINESS-FINDING-R1' }]), review('ok')],
          'review-security': [
            review('unsafe', [{ ...CRITICAL, message: 'SECURITY-FINDING-R1' }]),
            review('ok'),
          ],
        },
      },
    });

    expect(reviewerCalls.map((call) => `${call.round}:${call.reviewer}`).sort()).toEqual([
      '1:review-business',
      '1:review-code',
      '1:review-security',
      '2:review-business',
      '2:review-code',
      '2:review-security',
    ]);
    for (const call of reviewerCalls) {
      for (const marker of ['CODE-FINDING-R1', 'BUSINESS-FINDING-R1', 'SECURITY-FINDING-R1']) {
        expect(call.prompt).not.toContain(marker);
      }
      // Each was given the change itself: the round's diff.
      expect(call.prompt).toContain(call.round === 1 ? 'eval(a' : 'a + b');
    }
  });

  it("asks one devil's advocate when the three approve without a finding, and merges when it approves too", async () => {
    const { outcome, events, reviewerCalls } = await runTask({
      discovery: [{ text: 'unused' }],
      architecture: [{ text: 'unused' }],
      tasks: { add: [write('src/add.ts', SAFE_ADD), complete('add')] },
      reviews: {
        add: {
          'review-code': [review('clean')],
          'review-business': [review('does what REQ asks')],
          'review-security': [review('nothing risky')],
          'devils-advocate': [review('looked hard; nothing')],
        },
      },
    });

    expect(outcome).toBe('merged');
    expect(eventsOf(events, 'review.completed').map((event) => event.data)).toEqual([
      expect.objectContaining({
        round: 1,
        outcome: 'approved',
        devilsAdvocate: true,
        reviewers: ['review-code', 'review-business', 'review-security', 'devils-advocate'],
      }),
    ]);
    const advocate = reviewerCalls.find((call) => call.reviewer === 'devils-advocate');
    expect(advocate?.prompt).toContain("You are the devil's advocate");
    expect(git(root, ['show', `${mainBranch}:src/add.ts`])).toBe(SAFE_ADD);
  });

  it('fails the task and merges nothing when blocking findings remain after the last review round', async () => {
    const { outcome, events } = await runTask(
      {
        discovery: [{ text: 'unused' }],
        architecture: [{ text: 'unused' }],
        tasks: { add: [write('src/add.ts', UNSAFE_ADD), complete('add')] },
        reviews: {
          add: {
            'review-code': [review('fine')],
            'review-business': [review('fine')],
            'review-security': [review('unsafe', [CRITICAL])],
          },
        },
      },
      { LOKI_REVIEW_MAX_ROUNDS: '1' },
      false,
    );

    expect(outcome).toBe('failed');
    expect(eventsOf(events, 'review.completed').map((event) => event.data.next)).toEqual(['fail']);
    expect(eventsOf(events, 'merge.completed')).toEqual([]);
    expect((await workspace.store.getTask('add'))?.lastError).toMatch(
      /^review blocked the merge after 1 rounds: 1 blocking findings, e\.g\. \[Critical\] src\/add\.ts:2/,
    );
    expect(git(root, ['ls-tree', '--name-only', mainBranch])).not.toContain('src');
  });
});
