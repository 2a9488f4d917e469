import { glob, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { errorCode } from '../errors/index.ts';
import { isSameOrInside, resolveWorkspacePath } from './resolve-workspace-path.ts';
import { SKIPPED_DIRECTORY_NAMES } from './skipped-directories.ts';
import { defineTool } from './tool.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';

const MAX_MATCHES = 1_000;

const inputSchema = z.strictObject({
  pattern: z.string().min(1).describe('Glob pattern relative to `path`, e.g. `src/**/*.ts`.'),
  path: z.string().min(1).optional().describe('Directory to search from, relative to the worktree root.'),
});

export const globTool = defineTool({
  name: 'glob',
  description:
    'Find files by glob pattern (`**` for any depth, `*`, `?`, `{a,b}`). Paths come back relative to the worktree root, sorted. ' +
    '.git and node_modules are skipped.',
  inputSchema,
  async execute(input, context) {
    if (isAbsolute(input.pattern) || input.pattern.split('/').includes('..')) {
      throw toolUsageError(
        ToolErrorCode.invalidPattern,
        'The pattern must be relative and must not contain `..`; use `path` to pick the directory to search from.',
      );
    }
    const base = await resolveWorkspacePath(context.worktree, input.path ?? '.', 'read');
    const realWorktree = await realpath(context.worktree);
    const matches: string[] = [];
    let isCapped = false;
    const found = glob(input.pattern, {
      cwd: base.absolutePath,
      exclude: (name) => SKIPPED_DIRECTORY_NAMES.has(basename(name)),
    });
    for await (const match of found) {
      context.signal.throwIfAborted();
      if (match.split('/').some((segment) => SKIPPED_DIRECTORY_NAMES.has(segment))) continue;
      // A pattern that names a symlink (`link/**`) is followed by glob; never list what lies outside.
      const absolute = join(base.absolutePath, match);
      const real = await realpath(absolute).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return null;
        throw error;
      });
      if (real === null || !isSameOrInside(real, realWorktree)) continue;
      if (matches.length === MAX_MATCHES) {
        isCapped = true;
        break;
      }
      matches.push(join(base.relativePath, match));
    }
    if (matches.length === 0) return { output: `No files match ${input.pattern} in ${base.relativePath}.` };
    matches.sort();
    if (isCapped) matches.push(`(stopped at ${MAX_MATCHES} matches; use a narrower pattern)`);
    return { output: matches.join('\n') };
  },
});
