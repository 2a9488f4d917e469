import { type Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, matchesGlob, relative } from 'node:path';
import { z } from 'zod';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { SKIPPED_DIRECTORY_NAMES } from './skipped-directories.ts';
import { defineTool, type ToolContext } from './tool.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';

const DEFAULT_MAX_RESULTS = 200;
/** Minified bundles and data files are noise in a code search. */
const MAX_SEARCHED_FILE_BYTES = 2 * 1024 * 1024;
const MAX_LINE_CHARACTERS = 300;

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
    'Binary files, files over 2 MB, .git and node_modules are skipped.',
  inputSchema,
  async execute(input, context) {
    let expression: RegExp;
    try {
      expression = new RegExp(input.pattern, input.case_insensitive === true ? 'i' : '');
    } catch (error) {
      throw toolUsageError(
        ToolErrorCode.invalidPattern,
        `Invalid regular expression: ${error instanceof Error ? error.message : String(error)}. Escape special characters such as ( [ { with a backslash.`,
      );
    }
    const base = await resolveWorkspacePath(context.worktree, input.path ?? '.', 'read');
    if (!base.exists) throw toolUsageError(ToolErrorCode.fileUnreadable, `Not found: ${base.relativePath}.`);
    const root = await realpath(context.worktree);
    const maxResults = input.max_results ?? DEFAULT_MAX_RESULTS;
    const results: string[] = [];
    let isCapped = false;
    for await (const file of walkFiles(base.absolutePath, context)) {
      const relativePath = relative(root, file);
      if (
        input.glob !== undefined &&
        !matchesGlob(relativePath, input.glob) &&
        !matchesGlob(basename(file), input.glob)
      ) {
        continue;
      }
      const content = await readSearchableFile(file);
      if (content === null) continue;
      const lines = content.split('\n');
      for (const [index, line] of lines.entries()) {
        if (!expression.test(line)) continue;
        if (results.length === maxResults) {
          isCapped = true;
          break;
        }
        const shown = line.length > MAX_LINE_CHARACTERS ? `${line.slice(0, MAX_LINE_CHARACTERS)}...` : line;
        results.push(`${relativePath}:${index + 1}: ${shown}`);
      }
      if (isCapped) break;
    }
    if (results.length === 0) return { output: `No matches for /${input.pattern}/ in ${base.relativePath}.` };
    if (isCapped) results.push(`(stopped at ${maxResults} matches; narrow the pattern, path or glob)`);
    return { output: results.join('\n') };
  },
});

/** Regular files under `start` in name order, without following symlinks (they may point outside). */
async function* walkFiles(start: string, context: ToolContext): AsyncGenerator<string> {
  const startStats = await stat(start);
  if (!startStats.isDirectory()) {
    yield start;
    return;
  }
  const pending = [start];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    context.signal.throwIfAborted();
    const entries: Dirent[] = await readdir(directory, { withFileTypes: true });
    entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.isFile()) yield join(directory, entry.name);
    }
    // Pushed in reverse so that they are popped, and searched, in name order.
    for (const entry of entries.reverse()) {
      if (entry.isDirectory() && !SKIPPED_DIRECTORY_NAMES.has(entry.name))
        pending.push(join(directory, entry.name));
    }
  }
}

async function readSearchableFile(path: string): Promise<string | null> {
  const stats = await stat(path);
  if (stats.size > MAX_SEARCHED_FILE_BYTES) return null;
  const content = await readFile(path);
  if (content.subarray(0, 8_000).includes(0)) return null;
  return content.toString('utf8');
}
