import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/doctor/index.ts';
import type { NewEvent } from '../src/events/index.ts';
import { runClaudeCode } from '../src/providers/index.ts';
import { wrapInBubblewrap } from '../src/sandbox/index.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { fakeReply } from './fakes/fake-reply.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const ESCAPE_MARKER = `/etc/loki-claude-escape-${process.pid}`;

describe.skipIf(bubblewrapPath === undefined)('Claude Code inside bubblewrap (bwrap installed)', () => {
  let api: ClaudeCodeFakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('lets its Bash tool write the worktree but not the rest of the machine', async () => {
    const worktree = await mkdtemp(join(tmpdir(), 'loki-claude-sandboxed-'));
    await using home = await createClaudeCodeHome();
    try {
      api = await startClaudeCodeFakeApi();
      api.enqueue(
        fakeReply.toolCall('Bash', {
          command: `echo inside > inside.txt; touch ${ESCAPE_MARKER}; echo "escape exit=$?"`,
          description: 'try to write inside and outside',
        }),
        fakeReply.text('Done.'),
      );
      const events: NewEvent[] = [];
      const environment = home.environment(api);
      const result = await runClaudeCode({
        prompt: 'Write inside.txt',
        worktree,
        permissionMode: 'bypassPermissions',
        allowedTools: ['Bash'],
        maxTurns: 5,
        env: environment,
        executablePath: CLAUDE_CODE_EXECUTABLE,
        emit: (event) => events.push(event),
        runId: null,
        taskId: 'task-sandboxed',
        timeoutMilliseconds: 25_000,
        wrapInvocation: wrapInBubblewrap({
          bubblewrapPath: bubblewrapPath ?? 'bwrap',
          worktree,
          writablePaths: [home.path],
          pathVariable: process.env.PATH,
        }),
      });
      expect(result.reason).toBe('task_complete');
      expect(await readFile(join(worktree, 'inside.txt'), 'utf8')).toBe('inside\n');
      expect(existsSync(ESCAPE_MARKER)).toBe(false);
      const bashResult = events.find((event) => event.type === 'agent.tool_result');
      expect(JSON.stringify(bashResult?.data)).toMatch(/Read-only file system/);
      expect(JSON.stringify(bashResult?.data)).toMatch(/escape exit=1/);
    } finally {
      await rm(worktree, { recursive: true, force: true });
    }
  }, 40_000);
});
