/**
 * `loki run` end to end on Claude Code: the real pinned binary, driven through the Claude Agent
 * SDK, against a local fake Anthropic API that replays the whole session over the real wire
 * protocol. Planning goes through Loki's `loki` MCP tools, tasks through Claude Code's own tools.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionTask } from '../src/bench/generated-session.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { claudeCodeSessionRoute } from './support/claude-code-session.ts';
import { ArrivalBarrier } from './support/arrival-barrier.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { git, mergedTaskIds, readEvents, reportFiles, TEST_PRD } from './support/run-harness.ts';

const task = (id: string): SessionTask => ({ id, files: { [`files/${id}.txt`]: `content of ${id}\n` } });

describe('loki run --provider claude-code (real Claude Code via the Agent SDK, fake Anthropic API)', () => {
  it('plans through the loki MCP tools, runs tasks in parallel with Claude Code’s tools, merges and reports', async () => {
    using workspace = new TempWorkspace('loki-run-claude-');
    await using home = await createClaudeCodeHome();
    const tasks = ['alpha', 'beta', 'gamma'].map(task);
    const together = new ArrivalBarrier(tasks.length);
    await using api = await startClaudeCodeFakeApi({
      route: claudeCodeSessionRoute(tasks, { barrier: together }),
    });
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
    const environment = home.environment(api);
    const result = await loki(
      workspace,
      // The session scripts the planners and agents; blind review on Claude Code has its own test.
      ['-c', 'review.enabled=off', 'run', 'prd.md', '--provider', 'claude-code', '--parallel', '3', '--json'],
      {
        env: {
          ...environment,
          // LOKI_CLAUDE_PATH selects the binary; PATH has no other claude.
          LOKI_CLAUDE_PATH: CLAUDE_CODE_EXECUTABLE,
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
          // Three agents even when this shared machine's load average says fewer.
          LOKI_FOLLOW_MACHINE_LOAD: 'false',
        },
      },
    );
    expect(result.exitCode, result.stdout.slice(-4000) + result.stderr).toBe(0);
    const events = readEvents(result.stdout);

    // Discovery and Architecture handed in their documents through the loki MCP tools.
    const called = events.filter((event) => event.type === 'agent.tool_called');
    const calledNames = called.map((event) => (event.data as { toolName: string }).toolName);
    expect(calledNames).toContain('mcp__loki__submit_requirements');
    expect(calledNames).toContain('mcp__loki__submit_architecture');
    // Each task used Claude Code's own Write and Bash tools.
    for (const { id } of tasks) {
      const own = called
        .filter((event) => event.taskId === id)
        .map((event) => (event.data as { toolName: string }).toolName);
      expect(own).toEqual(['Write', 'Bash']);
    }
    // The three Claude Code sessions were in flight at the same time: the fake API held each task's
    // first call until all three had made theirs.
    expect(together.arrived.sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(together.met).toBe(true);

    expect([...mergedTaskIds(workspace.root)].sort()).toEqual(['alpha', 'beta', 'gamma']);
    for (const { id } of tasks) {
      expect(git(workspace.root, ['show', `main:files/${id}.txt`])).toBe(`content of ${id}\n`);
    }
    expect(reportFiles(workspace.root).length).toBeGreaterThan(0);
    expect(events.some((event) => event.type === 'usage.recorded')).toBe(true);
  }, 360_000);
});
