import { z } from 'zod';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { runGit } from './run-git.ts';
import { shellQuote } from './shell-quote.ts';
import { defineTool } from './tool.ts';

const inputSchema = z.strictObject({
  staged: z.boolean().optional().describe('Show staged changes (`--cached`) instead of unstaged ones.'),
  path: z.string().min(1).optional().describe('Limit the diff to this file or directory.'),
});

export const gitDiffTool = defineTool({
  name: 'git_diff',
  description:
    'Show the diff of the worktree against the index (or of the index against HEAD with staged: true).',
  inputSchema,
  async execute(input, context) {
    const pathArguments =
      input.path === undefined
        ? ''
        : ` -- ${shellQuote((await resolveWorkspacePath(context.worktree, input.path, 'read')).relativePath)}`;
    const staged = input.staged === true;
    return runGit(
      `diff --no-color${staged ? ' --cached' : ''}${pathArguments}`,
      context,
      staged
        ? 'No staged changes.'
        : 'No unstaged changes (new untracked files are not shown; see git_status).',
    );
  },
});
