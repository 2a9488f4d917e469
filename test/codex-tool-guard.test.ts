/**
 * Loki's guard as the real codex binary's PreToolUse hook: a patch that writes outside the worktree
 * and a shell command of a role without run_command are refused before they run, and each refusal
 * is a sandbox.refused event (Codex's own event stream does not carry a denied call at all). Run
 * with Codex's own sandbox and inside Loki's bubblewrap sandbox, where the hook runs too. The fake
 * Responses API answers as a model Codex offers `apply_patch` to (a freeform tool).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/doctor/index.ts';
import type { EventDataByType, NewEvent } from '../src/events/index.ts';
import { acceptTaskCompleteInput, codexToolGuardCommand, lokiToolsCommand } from '../src/mcp/index.ts';
import { type CodexRuntimeOptions, runCodex } from '../src/providers/cli/index.ts';
import { wrapInBubblewrap } from '../src/sandbox/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import type { FakeTurn } from './fakes/fake-reply.ts';

const API_KEY = 'sk-openai-codex-guard-test';
/** A model whose metadata codex 0.163 ships: it is offered apply_patch as a freeform tool. */
const MODEL = 'gpt-5.5';
const bubblewrapPath = findExecutable('bwrap', process.env.PATH);

let worktree: string;
let outside: string;
let guardDirectory: string;
let api: FakeOpenAIServer;
let codexHome: FakeCodexHome;

beforeEach(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'loki-codex-guard-'));
  execFileSync('git', ['init', '-q', worktree]);
  outside = await mkdtemp(join(tmpdir(), 'loki-codex-guard-outside-'));
  guardDirectory = mkdtempSync(join(tmpdir(), 'loki-codex-guard-refusals-'));
  api = await startFakeOpenAIServer({
    expectedApiKey: API_KEY,
    defaultReply: { type: 'turn', text: 'Done.' },
  });
  codexHome = new FakeCodexHome(api.baseUrl);
});

afterEach(async () => {
  codexHome[Symbol.dispose]();
  await api.close();
  for (const directory of [worktree, outside, guardDirectory])
    await rm(directory, { recursive: true, force: true });
});

const patch = (path: string) => `*** Begin Patch\n*** Add File: ${path}\n+written\n*** End Patch\n`;
const applyPatch = (path: string): FakeTurn => ({
  type: 'turn',
  toolCalls: [{ name: 'apply_patch', input: {}, freeformInput: patch(path) }],
});

function scriptSession(): void {
  api.enqueue(
    applyPatch(join(outside, 'escaped.txt')),
    applyPatch('inside.txt'),
    { type: 'turn', toolCalls: [{ name: 'exec_command', input: { cmd: 'touch ran-a-command.txt' } }] },
    {
      type: 'turn',
      toolCalls: [
        {
          name: 'task_complete',
          namespace: 'mcp__loki',
          input: { summary: 'Wrote the docs', files_changed: ['inside.txt'], tests_run: [] },
        },
      ],
    },
    { type: 'turn', text: 'Done.' },
  );
}

function options(events: NewEvent[], overrides: Partial<CodexRuntimeOptions> = {}): CodexRuntimeOptions {
  return {
    prompt: 'Write the docs.',
    worktree,
    model: MODEL,
    sandboxMode: 'workspace-write',
    env: {
      PATH: process.env.PATH,
      HOME: codexHome.path,
      CODEX_HOME: codexHome.path,
      OPENAI_API_KEY: API_KEY,
    },
    lokiTools: { ...lokiToolsCommand(['task_complete']), acceptTaskComplete: acceptTaskCompleteInput },
    // A techwriter: it may write files but not run commands.
    toolGuard: codexToolGuardCommand({ worktree, commands: false }, join(guardDirectory, 'refusals.ndjson')),
    emit: (event) => events.push(event),
    runId: null,
    taskId: 'task-guarded',
    timeoutMilliseconds: 120_000,
    ...overrides,
  };
}

function dataOf<Type extends keyof EventDataByType>(events: NewEvent[], type: Type): EventDataByType[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.data as EventDataByType[Type]);
}

async function expectGuarded(events: NewEvent[], reason: string | undefined): Promise<void> {
  expect(reason, JSON.stringify(events.slice(-5))).toBe('task_complete');
  // The patch inside the worktree was applied; the one outside and the command never ran.
  expect(await readFile(join(worktree, 'inside.txt'), 'utf8')).toBe('written\n');
  expect(existsSync(join(outside, 'escaped.txt'))).toBe(false);
  expect(existsSync(join(worktree, 'ran-a-command.txt'))).toBe(false);
  const refused = dataOf(events, 'sandbox.refused');
  expect(refused.map(({ toolName, reason: why }) => [toolName, why])).toEqual([
    ['apply_patch', 'path_escape'],
    ['Bash', 'tool_not_allowed'],
  ]);
  expect(refused[0]?.detail).toContain('outside the worktree');
  // The model was told why, in the call's output.
  expect(JSON.stringify(api.modelRequests().at(-1)?.body)).toContain('Loki refused this Bash call');
}

describe("Loki's guard as Codex's PreToolUse hook (real codex binary, fake Responses API)", () => {
  it('refuses a patch outside the worktree and the commands of a role without run_command, as events', async () => {
    scriptSession();
    const events: NewEvent[] = [];
    const result = await runCodex(options(events));
    await expectGuarded(events, result.reason);
  }, 180_000);

  it.skipIf(bubblewrapPath === undefined)(
    'does the same inside Loki’s bubblewrap sandbox',
    async () => {
      scriptSession();
      const events: NewEvent[] = [];
      const result = await runCodex(
        options(events, {
          sandboxMode: 'danger-full-access',
          wrapInvocation: wrapInBubblewrap({
            bubblewrapPath: bubblewrapPath ?? 'bwrap',
            worktree,
            writablePaths: [codexHome.path, guardDirectory],
            pathVariable: process.env.PATH,
            homeDirectory: codexHome.path,
          }),
        }),
      );
      await expectGuarded(events, result.reason);
    },
    180_000,
  );
});
