import { realpath } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { runSearchWorker } from './run-search-worker.ts';
import {
  SEARCH_TIMEOUT_MILLISECONDS,
  searchStoppedError,
  searchTimeoutMilliseconds,
} from './search-limits.ts';
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
    `.git and node_modules are skipped. A search is stopped after ${SEARCH_TIMEOUT_MILLISECONDS / 1000} s.`,
  inputSchema,
  async execute(input, context) {
    if (isAbsolute(input.pattern) || input.pattern.split('/').includes('..')) {
      throw toolUsageError(
        ToolErrorCode.invalidPattern,
        'The pattern must be relative and must not contain `..`; use `path` to pick the directory to search from.',
      );
    }
    const base = await resolveWorkspacePath(context.worktree, input.path ?? '.', 'read');
    const outcome = await runSearchWorker(
      {
        kind: 'glob',
        worktree: await realpath(context.worktree),
        base: base.absolutePath,
        baseRelativePath: base.relativePath,
        pattern: input.pattern,
        maxMatches: MAX_MATCHES,
      },
      { timeoutMilliseconds: searchTimeoutMilliseconds(context), signal: context.signal },
    );
    if (outcome.kind !== 'finished') {
      throw searchStoppedError(
        outcome,
        `the glob pattern ${input.pattern}`,
        'Brace groups multiply ({a,b}{c,d}… and ranges such as {1..1000} expand to every combination). ' +
          'Use a simpler pattern: fewer brace groups, `*` or `**` instead of long alternatives, or a narrower path.',
      );
    }
    if (outcome.lines.length === 0)
      return { output: `No files match ${input.pattern} in ${base.relativePath}.` };
    const matches = [...outcome.lines];
    if (outcome.isCapped) matches.push(`(stopped at ${MAX_MATCHES} matches; use a narrower pattern)`);
    return { output: matches.join('\n') };
  },
});
