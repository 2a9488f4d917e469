import { singleAttempt } from './support/single-attempt.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/events/index.ts';
import { runClaudeCodeSubmission, runDiscovery } from '../src/planning/index.ts';
import { runClaudeCode } from '../src/providers/index.ts';
import { claudeCodeToolsFor, confineWritesToWorktree } from '../src/runtime/index.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { requirement } from './support/requirement-fixture.ts';

const retry = singleAttempt('claude-code');

// The real Claude Code binary (through the Agent SDK) against the local fake Anthropic API.
let api: ClaudeCodeFakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('Loki’s tools and permissions on Claude Code', () => {
  it('answers an invalid submission through the loki MCP tool with its errors, then accepts the repair', async () => {
    await using home = await createClaudeCodeHome();
    const directory = await mkdtemp(join(tmpdir(), 'loki-claude-planning-'));
    api = await startClaudeCodeFakeApi();
    api.enqueue(
      fakeReply.toolCall('mcp__loki__submit_requirements', { requirements: [{ id: 'REQ-9' }] }),
      fakeReply.toolCall('mcp__loki__submit_requirements', {
        requirements: [requirement(1)],
        assumptions: [],
      }),
      fakeReply.text('Submitted.'),
    );
    const events: NewEvent[] = [];
    try {
      const document = await runDiscovery({
        prdText: '# Todo\nA todo list.',
        emit: (event) => events.push(event),
        retry,
        runId: 'run-1',
        runSubmission: (spec, options) =>
          runClaudeCodeSubmission(spec, options, {
            workingDirectory: directory,
            env: home.environment(api ?? { baseUrl: '' }),
            executablePath: CLAUDE_CODE_EXECUTABLE,
            timeoutMilliseconds: 60_000,
          }),
      });
      expect(document.requirements.map((entry) => entry.id)).toEqual(['REQ-001']);
      const results = events.filter((event) => event.type === 'agent.tool_result');
      expect(results.map((event) => (event.data as { isError: boolean }).isError)).toEqual([true, false]);
      expect((results[0]?.data as { output: string }).output).toContain('The submission is invalid');
      // The planner's session offered Loki's tool and no built-in tool at all.
      const offered = (api.conversationRequests()[0]?.body as { tools: { name: string }[] }).tools;
      expect(offered.map((tool) => tool.name)).toContain('mcp__loki__submit_requirements');
      expect(offered.map((tool) => tool.name)).not.toContain('Bash');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 90_000);

  it('fails the phase when the repair rounds run out, with the last errors', async () => {
    await using home = await createClaudeCodeHome();
    const directory = await mkdtemp(join(tmpdir(), 'loki-claude-planning-'));
    api = await startClaudeCodeFakeApi({
      defaultReply: fakeReply.toolCall('mcp__loki__submit_requirements', { requirements: [] }),
    });
    try {
      const discovery = runDiscovery({
        prdText: '# Todo\nA todo list.',
        emit: () => {},
        retry,
        runId: null,
        maxRepairRounds: 1,
        runSubmission: (spec, options) =>
          runClaudeCodeSubmission(spec, options, {
            workingDirectory: directory,
            env: home.environment(api ?? { baseUrl: '' }),
            executablePath: CLAUDE_CODE_EXECUTABLE,
            timeoutMilliseconds: 60_000,
          }),
      });
      await expect(discovery).rejects.toMatchObject({ code: 'DISCOVERY_INVALID_OUTPUT' });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses a file write outside the worktree and records it as sandbox.refused', async () => {
    await using home = await createClaudeCodeHome();
    const worktree = await mkdtemp(join(tmpdir(), 'loki-claude-refusal-'));
    const outside = join(tmpdir(), `loki-claude-outside-${process.pid}.txt`);
    api = await startClaudeCodeFakeApi();
    api.enqueue(
      fakeReply.toolCall('Write', { file_path: outside, content: 'escaped\n' }),
      fakeReply.text('Gave up.'),
    );
    const events: NewEvent[] = [];
    try {
      const tools = claudeCodeToolsFor(['read_file', 'write_file', 'task_complete']);
      const result = await runClaudeCode({
        prompt: 'Write a file outside',
        worktree,
        permissionMode: 'dontAsk',
        tools,
        allowedTools: tools,
        checkToolUse: confineWritesToWorktree(worktree),
        maxTurns: 5,
        env: home.environment(api),
        executablePath: CLAUDE_CODE_EXECUTABLE,
        emit: (event) => events.push(event),
        runId: null,
        taskId: 'task-refused',
        timeoutMilliseconds: 60_000,
      });
      expect(result.reason).toBe('task_complete');
      expect(existsSync(outside)).toBe(false);
      expect(events.filter((event) => event.type === 'sandbox.refused')).toEqual([
        expect.objectContaining({
          data: expect.objectContaining({ toolName: 'Write', reason: 'path_escape' }),
        }),
      ]);
      const [toolResult] = events.filter((event) => event.type === 'agent.tool_result');
      expect(toolResult?.data).toMatchObject({ toolName: 'Write', isError: true });
      // A role without run_command gets no Bash at all.
      const offered = (api.conversationRequests()[0]?.body as { tools: { name: string }[] }).tools;
      expect(offered.map((tool) => tool.name)).not.toContain('Bash');
      expect(tools).toEqual(['Read', 'Write']);
    } finally {
      await rm(worktree, { recursive: true, force: true });
    }
  }, 90_000);
});
