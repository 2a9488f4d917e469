/**
 * The catalog decides Codex's tools: a role that may neither run commands nor write files is offered no shell tool by the
 * real codex binary (`features.shell_tool = false`), and a shell call the model makes anyway runs
 * nothing. Asserted on the tools in the model requests the fake Responses API received.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/events/index.ts';
import { acceptTaskCompleteInput, lokiToolsCommand } from '../src/mcp/index.ts';
import { type CodexRuntimeOptions, runCodex } from '../src/providers/cli/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';

const API_KEY = 'sk-openai-codex-tools-test';

let worktree: string;
let api: FakeOpenAIServer;
let codexHome: FakeCodexHome;

beforeEach(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'loki-codex-tools-'));
  execFileSync('git', ['init', '-q', worktree]);
  api = await startFakeOpenAIServer({
    expectedApiKey: API_KEY,
    defaultReply: { type: 'turn', text: 'Done.' },
  });
  codexHome = new FakeCodexHome(api.baseUrl);
});

afterEach(async () => {
  codexHome[Symbol.dispose]();
  await api.close();
  await rm(worktree, { recursive: true, force: true });
});

function runOptions(events: NewEvent[], overrides: Partial<CodexRuntimeOptions>): CodexRuntimeOptions {
  return {
    prompt: 'Document the project.',
    worktree,
    sandboxMode: 'workspace-write',
    env: {
      PATH: process.env.PATH,
      HOME: codexHome.path,
      CODEX_HOME: codexHome.path,
      OPENAI_API_KEY: API_KEY,
    },
    lokiTools: { ...lokiToolsCommand(['task_complete']), acceptTaskComplete: acceptTaskCompleteInput },
    emit: (event) => events.push(event),
    runId: null,
    taskId: 'task-tools',
    timeoutMilliseconds: 120_000,
    ...overrides,
  };
}

const taskComplete = {
  name: 'task_complete',
  namespace: 'mcp__loki',
  input: { summary: 'Documented', files_changed: [], tests_run: [] },
};

/** The names of the top-level tools each model request offered. */
function offeredTools(): string[][] {
  return api
    .modelRequests()
    .map((request) => request.body as { tools?: { name?: string; type?: string }[] })
    .filter((body) => body.tools !== undefined)
    .map((body) => (body.tools ?? []).map((tool) => tool.name ?? tool.type ?? '?'));
}

const SHELL_TOOLS = ['exec_command', 'shell', 'local_shell', 'shell_command', 'write_stdin'];

describe('Codex tools by the catalog (real codex binary against a fake Responses API)', () => {
  it('offers a shell by default, and none with shellTool: false', async () => {
    api.enqueue({ type: 'turn', toolCalls: [taskComplete] }, { type: 'turn', text: 'Reported.' });
    const withShell = await runCodex(runOptions([], {}));
    expect(withShell.reason).toBe('task_complete');
    expect(offeredTools()[0]).toContain('exec_command');

    const before = api.modelRequests().length;
    api.enqueue({ type: 'turn', toolCalls: [taskComplete] }, { type: 'turn', text: 'Reported.' });
    const withoutShell = await runCodex(runOptions([], { shellTool: false }));
    expect(withoutShell.reason).toBe('task_complete');
    const offered = offeredTools().slice(before);
    expect(offered.length).toBeGreaterThan(0);
    for (const tools of offered) {
      expect(tools.filter((name) => SHELL_TOOLS.includes(name))).toEqual([]);
      expect(tools).toContain('mcp__loki');
    }
  }, 180_000);

  it('runs nothing when the model calls a shell it was not offered', async () => {
    api.enqueue(
      { type: 'turn', toolCalls: [{ name: 'exec_command', input: { cmd: 'touch planted.txt' } }] },
      { type: 'turn', toolCalls: [taskComplete] },
      { type: 'turn', text: 'Reported.' },
    );
    const events: NewEvent[] = [];
    const result = await runCodex(runOptions(events, { shellTool: false }));
    expect(result.reason).toBe('task_complete');
    expect(existsSync(join(worktree, 'planted.txt'))).toBe(false);
    // Codex answers the call itself with an error the model sees in its next request.
    expect(JSON.stringify(api.modelRequests()[1]?.body)).toMatch(/unsupported call|exec_command/i);
  }, 180_000);
});
