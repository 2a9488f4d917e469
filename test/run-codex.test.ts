/**
 * `loki run` end to end on Codex: the real binary that `@openai/codex` ships, driven through the
 * Codex SDK, against a local fake OpenAI Responses API that plays the whole session over the real
 * wire protocol. Planning goes through Loki's `loki` MCP tools (`loki mcp-tools`), tasks through
 * Codex's own tools.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import type { SessionTask } from '../src/bench/generated-session.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { ArrivalBarrier } from './support/arrival-barrier.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { codexSessionRoute, lokiToolsOffered, submissionCall } from './support/codex-session.ts';
import { git, mergedTaskIds, readEvents, reportFiles, TEST_PRD } from './support/run-harness.ts';

const API_KEY = 'sk-openai-codex-run-test';

const task = (id: string): SessionTask => ({ id, files: { [`files/${id}.txt`]: `content of ${id}\n` } });

describe('loki run --provider codex (real Codex via the Codex SDK, fake Responses API)', () => {
  it("plans through the loki MCP tools, runs tasks in parallel with Codex's own tools, merges and reports", async () => {
    using workspace = new TempWorkspace('loki-run-codex-');
    const tasks = ['alpha', 'beta', 'gamma'].map(task);
    const together = new ArrivalBarrier(tasks.length);
    await using api = await startFakeOpenAIServer({
      expectedApiKey: API_KEY,
      defaultReply: { type: 'turn', text: 'Done.' },
      route: codexSessionRoute(tasks, { barrier: together }),
    });
    using codexHome = new FakeCodexHome(api.baseUrl);
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
    const result = await loki(
      workspace,
      // The session scripts the planners and agents; blind review on Codex has its own test.
      ['-c', 'review.enabled=off', 'run', 'prd.md', '--provider', 'codex', '--parallel', '3', '--json'],
      {
        env: {
          CODEX_HOME: codexHome.path,
          OPENAI_API_KEY: API_KEY,
          OPENAI_BASE_URL: api.baseUrl,
          // Three agents even when this shared machine's load average says fewer.
          LOKI_FOLLOW_MACHINE_LOAD: 'false',
        },
      },
    );
    expect(result.exitCode, result.stdout.slice(-4000) + result.stderr).toBe(0);
    const events = readEvents(result.stdout);

    // Each planner was offered only its phase's submission tool from loki mcp-tools.
    const offered = api
      .modelRequests()
      .map(lokiToolsOffered)
      .filter((names) => names.length > 0 && !names.includes('task_complete'));
    expect(new Set(offered.map((names) => names.join(',')))).toEqual(
      new Set(['submit_requirements', 'submit_architecture']),
    );
    // Discovery and Architecture handed in their documents through the loki MCP tools.
    const called = events.filter((event) => event.type === 'agent.tool_called');
    const calledNames = called.map((event) => (event.data as { toolName: string }).toolName);
    expect(calledNames).toContain('mcp:loki/submit_requirements');
    expect(calledNames).toContain('mcp:loki/submit_architecture');
    // Each task wrote with Codex's own command tool and completed through loki's task_complete.
    for (const { id } of tasks) {
      const own = called
        .filter((event) => event.taskId === id)
        .map((event) => (event.data as { toolName: string }).toolName);
      expect(own).toEqual(['command_execution', 'mcp:loki/task_complete']);
      expect(events.some((event) => event.type === 'task.claimed' && event.taskId === id)).toBe(true);
    }

    // The three Codex sessions were in flight at the same time: the fake API held each task's first
    // call until all three had made theirs.
    expect(together.arrived.sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(together.met).toBe(true);

    expect([...mergedTaskIds(workspace.root)].sort()).toEqual(['alpha', 'beta', 'gamma']);
    for (const { id } of tasks) {
      expect(git(workspace.root, ['show', `main:files/${id}.txt`])).toBe(`content of ${id}\n`);
    }
    expect(reportFiles(workspace.root).length).toBeGreaterThan(0);
    expect(events.some((event) => event.type === 'usage.recorded')).toBe(true);
  }, 360_000);

  it('is auto-detected when a Codex key is the only provider found, and runs a task', async () => {
    using workspace = new TempWorkspace('loki-auto-codex-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await using api = await startFakeOpenAIServer({
      expectedApiKey: API_KEY,
      defaultReply: { type: 'turn', text: 'Done.' },
    });
    api.enqueue(
      { type: 'turn', toolCalls: [{ name: 'exec_command', input: { cmd: 'printf hello > hello.txt' } }] },
      submissionCall('task_complete', {
        summary: 'Wrote hello.txt',
        files_changed: ['hello.txt'],
        tests_run: [],
      }),
      { type: 'turn', text: 'Done.' },
    );
    // Codex reads the key from CODEX_API_KEY: no OPENAI_API_KEY, no claude on PATH.
    using codexHome = new FakeCodexHome(api.baseUrl, { envKey: 'CODEX_API_KEY' });
    const result = await loki(
      workspace,
      ['task', 'run', 'Create hello.txt', '--verify', 'grep -q hello hello.txt'],
      {
        env: {
          CODEX_HOME: codexHome.path,
          CODEX_API_KEY: API_KEY,
          // Not OPENAI_BASE_URL (that would auto-detect openai-compatible): the fake API's host on the allow list.
          LOKI_SANDBOX_ALLOWED_HOSTS: new URL(api.baseUrl).host,
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        },
      },
    );
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    const started = (await opened.store.listEvents()).filter((event) => event.type === 'agent.started');
    expect(started.map((event) => (event.data as { runtime: string }).runtime)).toEqual(['codex']);
  }, 120_000);
});
