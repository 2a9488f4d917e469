import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/sandbox/find-executable.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { extraWorktrees, mergedTaskIds, prepareRun } from './support/run-harness.ts';

const isSandboxed = findExecutable('bwrap', process.env.PATH) !== undefined;

/** Shell that plants, in the current folder, a repository of its own whose programs touch `markers/<name>`. */
function plantingCommand(markers: string): string {
  const program = (name: string) => `#!/bin/sh\\ntouch '${join(markers, name)}'\\ncat\\n`;
  return [
    'rm -rf .git',
    'git init -q .',
    `printf '${program('hook')}' > .git/hooks/post-commit`,
    'chmod +x .git/hooks/post-commit',
    `printf '${program('fsmonitor')}' > fsmonitor.sh`,
    'chmod +x fsmonitor.sh',
    'git config core.fsmonitor "$PWD/fsmonitor.sh"',
    'git config filter.evil.clean "$PWD/fsmonitor.sh"',
    "printf '* filter=evil\\n' > .gitattributes",
    'true',
  ].join('; ');
}

/**
 * A whole run in which one agent, and the verify command its plan chose (which runs in the merge
 * queue's worktree), try to make Loki's git run their programs on the host.
 */
describe('git safety in a whole run', () => {
  let markers: string;
  beforeEach(() => {
    markers = mkdtempSync(join(tmpdir(), 'loki-git-safety-markers-'));
    mkdirSync(markers, { recursive: true });
  });
  afterEach(() => rmSync(markers, { recursive: true, force: true }));

  it('runs nothing an agent planted, and merges nothing of a tampered worktree', async () => {
    using workspace = new TempWorkspace('loki-git-safety-run-');
    const planting = plantingCommand(markers);
    const args = prepareRun(
      workspace,
      {
        tasks: [
          { id: 'honest', files: { 'honest.txt': 'honest\n' } },
          {
            id: 'hostile',
            files: { 'hostile.txt': 'hostile\n' },
            steps: [
              {
                toolCalls: [{ toolName: 'write_file', input: { path: 'hostile.txt', content: 'hostile\n' } }],
              },
              { toolCalls: [{ toolName: 'run_command', input: { command: planting } }] },
              { toolCalls: [{ toolName: 'git_status', input: {} }] },
              {
                toolCalls: [
                  {
                    toolName: 'task_complete',
                    input: { summary: 'done', files_changed: ['hostile.txt'], tests_run: [] },
                  },
                ],
              },
            ],
            // Runs again in the merge queue's worktree, where it tries the same.
            verifyCommands: [`test -f hostile.txt && { ${planting}; }`],
          },
        ],
      },
      2,
    );
    const result = await loki(workspace, ['run', 'prd.md', ...args, '--max-task-attempts', '1']);

    expect(readdirSync(markers)).toEqual([]);
    expect(extraWorktrees(workspace.root)).toEqual([]);
    if (isSandboxed) {
      // The sandbox keeps every worktree's gitfile read-only: the attempt failed where it was made.
      expect(result.exitCode, result.stderr).toBe(0);
      expect(mergedTaskIds(workspace.root).sort()).toEqual(['honest', 'hostile']);
    } else {
      // Without a sandbox the agent did replace its .git: the task fails as tampering, nothing of it merges.
      expect(result.exitCode).toBe(5);
      expect(result.stderr + result.stdout).toMatch(/tampering/);
      expect(mergedTaskIds(workspace.root)).toEqual(['honest']);
    }
  }, 120_000);
});
