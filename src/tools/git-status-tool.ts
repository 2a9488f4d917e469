import { z } from 'zod';
import { runGit } from './run-git.ts';
import { defineTool } from './tool.ts';

export const gitStatusTool = defineTool({
  name: 'git_status',
  description:
    'Show the branch and changed files of the worktree (`git status --short --branch`, untracked files listed one by one).',
  inputSchema: z.strictObject({}),
  execute(_input, context) {
    return runGit('status --short --branch --untracked-files=all', context, 'No output from git status.');
  },
});
