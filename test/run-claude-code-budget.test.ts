/**
 * `loki run --budget` on Claude Code: the real binary against a fake Anthropic API whose task
 * turns each cost about $0.60. Loki charges every turn from the API stream and stops the session
 * when the next turn could cross the cap.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionTask } from '../src/bench/generated-session.ts';
import type { RunReport } from '../src/orchestrator/run-report.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import type { RecordedRequest } from './fakes/fake-http-server.ts';
import type { FakeReply } from './fakes/fake-reply.ts';
import { claudeCodeSessionRoute } from './support/claude-code-session.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { mergedTaskIds, readJsonFile, reportFiles, TEST_PRD } from './support/run-harness.ts';

/** $3 / $15 per million tokens: a task turn of 150k input and 10k output tokens costs $0.60. */
const MODEL = 'claude-sonnet-4-5';

const task = (id: string): SessionTask => ({ id, files: { [`files/${id}.txt`]: `content of ${id}\n` } });

function isTaskCall(request: RecordedRequest): boolean {
  const tools = (request.body as { tools?: { name: string }[] }).tools ?? [];
  return tools.length > 0 && !tools.some((tool) => tool.name.startsWith('mcp__loki__submit_'));
}

describe('loki run --provider claude-code --budget (real Claude Code, fake Anthropic API)', () => {
  it('stops the task agent at the cap: exit 4, budget stop, what was spent reported', async () => {
    using workspace = new TempWorkspace('loki-run-claude-budget-');
    await using home = await createClaudeCodeHome();
    const sessionRoute = claudeCodeSessionRoute(['alpha', 'beta'].map(task));
    const route = (request: RecordedRequest): FakeReply | undefined => {
      const reply = sessionRoute(request);
      if (reply?.type !== 'turn') return reply;
      return isTaskCall(request)
        ? { ...reply, model: MODEL, usage: { inputTokens: 150_000, outputTokens: 10_000 } }
        : { ...reply, model: MODEL };
    };
    await using api = await startClaudeCodeFakeApi({ route });
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
    const environment = home.environment(api);
    const result = await loki(
      workspace,
      ['run', 'prd.md', '--provider', 'claude-code', '--parallel', '1', '--budget', '1.5'],
      {
        env: {
          ...environment,
          LOKI_CLAUDE_PATH: CLAUDE_CODE_EXECUTABLE,
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        },
      },
    );
    expect(result.exitCode, result.stdout.slice(-4000) + result.stderr).toBe(4);
    // The first task's agent was stopped after at most three turns, and no other task started.
    const taskCalls = api.conversationRequests().filter(isTaskCall);
    expect(taskCalls.length).toBeGreaterThan(0);
    expect(taskCalls.length).toBeLessThanOrEqual(3);
    expect(mergedTaskIds(workspace.root)).toEqual([]);

    const json = reportFiles(workspace.root).filter((name) => name.endsWith('.json'));
    const report = readJsonFile<RunReport>(
      join(workspace.root, '.loki', 'artifacts', 'reports', json[0] ?? ''),
    );
    expect(report).toMatchObject({ status: 'budget', exitCode: 4 });
    // Planning turns cost cents; each task turn $0.60, all of them charged.
    expect(report.budget.spentUsd).toBeGreaterThanOrEqual(0.6 * taskCalls.length);
    expect(report.budget.spentUsd).toBeLessThanOrEqual(1.5 + 0.6);
    expect(report.budget.byTask).toHaveProperty(['phase:discovery']);
    const spent = `spent $${report.budget.spentUsd.toFixed(4)} of $1.50; the CLI's last turn may overshoot by one turn`;
    expect(report.summary).toContain(spent);
    expect(result.stdout).toContain(spent);
  }, 240_000);
});
