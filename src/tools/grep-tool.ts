import { realpath } from 'node:fs/promises';
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

const DEFAULT_MAX_RESULTS = 200;

const inputSchema = z.strictObject({
  pattern: z.string().min(1).describe('JavaScript regular expression, e.g. `function\\s+main`.'),
  path: z.string().min(1).optional().describe('File or directory to search, relative to the worktree root.'),
  glob: z
    .string()
    .min(1)
    .optional()
    .describe('Only search files matching this glob, e.g. `*.ts` or `src/**/*.test.ts`.'),
  case_insensitive: z.boolean().optional(),
  max_results: z.number().int().min(1).max(1_000).optional().describe(`Default ${DEFAULT_MAX_RESULTS}.`),
});

export const grepTool = defineTool({
  name: 'grep',
  description:
    'Search file contents with a regular expression. Results are `path:line: text`, relative to the worktree root. ' +
    `Binary files, files over 2 MB, .git and node_modules are skipped. A search is stopped after ${SEARCH_TIMEOUT_MILLISECONDS / 1000} s.`,
  inputSchema,
  async execute(input, context) {
    const flags = input.case_insensitive === true ? 'i' : '';
    try {
      // Compiled here only to report a syntax error early; matching happens in the search worker.
      new RegExp(input.pattern, flags);
    } catch (error) {
      throw toolUsageError(
        ToolErrorCode.invalidPattern,
        `Invalid regular expression: ${error instanceof Error ? error.message : String(error)}. Escape special characters such as ( [ { with a backslash.`,
      );
    }
    const base = await resolveWorkspacePath(context.worktree, input.path ?? '.', 'read');
    if (!base.exists) throw toolUsageError(ToolErrorCode.fileUnreadable, `Not found: ${base.relativePath}.`);
    const maxResults = input.max_results ?? DEFAULT_MAX_RESULTS;
    const outcome = await runSearchWorker(
      {
        kind: 'grep',
        worktree: await realpath(context.worktree),
        start: base.absolutePath,
        pattern: input.pattern,
        flags,
        glob: input.glob ?? null,
        maxResults,
      },
      { timeoutMilliseconds: searchTimeoutMilliseconds(context), signal: context.signal },
    );
    if (outcome.kind !== 'finished') {
      throw searchStoppedError(
        outcome,
        `the search for /${input.pattern}/${input.glob === undefined ? '' : ` in files matching ${input.glob}`}`,
        'The pattern probably backtracks catastrophically (nested quantifiers such as (a+)+ or (.*)*, or alternatives that overlap). ' +
          'Use a simpler pattern: literal text, one quantifier per group, anchors; or narrow path and glob.',
      );
    }
    if (outcome.lines.length === 0)
      return { output: `No matches for /${input.pattern}/ in ${base.relativePath}.` };
    const results = [...outcome.lines];
    if (outcome.isCapped)
      results.push(`(stopped at ${maxResults} matches; narrow the pattern, path or glob)`);
    return { output: results.join('\n') };
  },
});
