import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { judgeCodexToolCall, patchTargets } from './codex-tool-guard.ts';

let worktree: string;
let outside: string;

beforeEach(() => {
  worktree = mkdtempSync(join(tmpdir(), 'loki-guard-worktree-'));
  outside = mkdtempSync(join(tmpdir(), 'loki-guard-outside-'));
  mkdirSync(join(worktree, '.git'));
});

afterEach(() => {
  rmSync(worktree, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const call = (toolName: string, command: unknown) => ({
  hook_event_name: 'PreToolUse',
  cwd: worktree,
  tool_name: toolName,
  tool_input: { command },
});
const addFile = (path: string) => `*** Begin Patch\n*** Add File: ${path}\n+text\n*** End Patch\n`;

describe('judgeCodexToolCall', () => {
  it('lets a role with run_command run commands, and refuses them to a role without', async () => {
    expect(await judgeCodexToolCall(call('Bash', 'npm test'), { worktree, commands: true })).toBeNull();
    expect(await judgeCodexToolCall(call('Bash', 'npm test'), { worktree, commands: false })).toEqual({
      toolName: 'Bash',
      reason: 'tool_not_allowed',
      detail: 'this agent type may not run commands (its catalog entry has no run_command)',
    });
  });

  it('allows patches inside the worktree, relative or absolute', async () => {
    const policy = { worktree, commands: false };
    expect(await judgeCodexToolCall(call('apply_patch', addFile('docs/a.md')), policy)).toBeNull();
    expect(await judgeCodexToolCall(call('apply_patch', addFile(join(worktree, 'b.md'))), policy)).toBeNull();
  });

  it('refuses a patch that writes outside the worktree, through a symlink, or into .git', async () => {
    symlinkSync(outside, join(worktree, 'link'));
    const policy = { worktree, commands: true };
    const reasons = await Promise.all(
      [join(outside, 'x'), '../x', 'link/x', '.git/config'].map(
        async (path) => (await judgeCodexToolCall(call('apply_patch', addFile(path)), policy))?.reason,
      ),
    );
    expect(reasons.every((reason) => typeof reason === 'string')).toBe(true);
    expect(reasons[0]).toBe('path_escape');
    // The second file of a patch counts as much as the first.
    const twoFiles = `*** Begin Patch\n*** Update File: a.md\n@@\n-a\n+b\n*** Move to: ${join(outside, 'a.md')}\n*** End Patch\n`;
    expect((await judgeCodexToolCall(call('apply_patch', twoFiles), policy))?.reason).toBe('path_escape');
  });

  it('refuses what it cannot read, and leaves other tools alone', async () => {
    const policy = { worktree, commands: true };
    expect((await judgeCodexToolCall({ tool_name: 'Bash' }, policy))?.reason).toBe('invalid_tool_call');
    expect((await judgeCodexToolCall(call('apply_patch', 42), policy))?.reason).toBe('invalid_path');
    expect(await judgeCodexToolCall(call('mcp__loki__task_complete', undefined), policy)).toBeNull();
  });
});

describe('patchTargets', () => {
  it('lists every file a patch adds, updates, deletes or moves to', () => {
    const patch = [
      '*** Begin Patch',
      '*** Add File: a.txt',
      '+new',
      '*** Update File: src/b.ts',
      '*** Move to: src/c.ts',
      '@@',
      '-x',
      '+y',
      '*** Delete File: old.txt',
      '*** End Patch',
    ].join('\n');
    expect(patchTargets(patch)).toEqual(['a.txt', 'src/b.ts', 'src/c.ts', 'old.txt']);
  });
});
