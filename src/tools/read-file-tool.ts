import { z } from 'zod';
import { readTextFile } from './read-text-file.ts';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { defineTool } from './tool.ts';

/**
 * Lines returned by one call. It bounds the work done on the event loop: numbering every line of a
 * 10 MB file of empty lines would build a 90 MB string and hold the process for seconds.
 */
export const MAX_LINES_PER_READ = 20_000;

const inputSchema = z
  .strictObject({
    path: z.string().min(1).describe('File path relative to the worktree root.'),
    start_line: z.number().int().min(1).optional().describe('First line to return (1-based).'),
    end_line: z.number().int().min(1).optional().describe('Last line to return (inclusive).'),
  })
  .refine(
    (input) =>
      input.start_line === undefined || input.end_line === undefined || input.start_line <= input.end_line,
    {
      message: 'start_line must not be after end_line',
      path: ['end_line'],
    },
  );

export const readFileTool = defineTool({
  name: 'read_file',
  description:
    'Read a text file in the worktree. Lines come back numbered (`   12\\tcode`); the numbers are not part of the file. ' +
    `Use start_line/end_line for a part of a large file; one call returns at most ${MAX_LINES_PER_READ} lines. Binary files are refused.`,
  inputSchema,
  async execute(input, context) {
    const target = await resolveWorkspacePath(context.worktree, input.path, 'read');
    const content = await readTextFile(target.absolutePath, target.relativePath);
    if (content === '') return { output: `(${target.relativePath} is empty)` };
    const lineCount = countLines(content);
    const startLine = input.start_line ?? 1;
    if (startLine > lineCount) {
      return {
        output: `start_line ${startLine} is past the end of ${target.relativePath} (${lineCount} lines).`,
        isError: true,
      };
    }
    const askedEndLine = Math.min(input.end_line ?? lineCount, lineCount);
    const endLine = Math.min(askedEndLine, startLine + MAX_LINES_PER_READ - 1);
    const numbered = linesBetween(content, startLine, endLine).map(
      (line, index) => `${String(startLine + index).padStart(6)}\t${line}`,
    );
    const footer: string[] = [];
    if (startLine > 1 || endLine < lineCount) footer.push(`(lines ${startLine}-${endLine} of ${lineCount})`);
    if (endLine < askedEndLine) {
      footer.push(
        `(read_file returns at most ${MAX_LINES_PER_READ} lines per call; continue with start_line ${endLine + 1})`,
      );
    }
    return { output: [...numbered, ...footer].join('\n') };
  },
});

/** Lines of a non-empty text; a final newline ends the last line rather than starting another. */
function countLines(content: string): number {
  let count = 0;
  for (let index = content.indexOf('\n'); index !== -1; index = content.indexOf('\n', index + 1)) count += 1;
  return content.endsWith('\n') ? count : count + 1;
}

/** Lines `first` to `last` (1-based, inclusive), found without splitting the whole text. */
function linesBetween(content: string, first: number, last: number): string[] {
  let lineStart = 0;
  for (let line = 1; line < first; line += 1) lineStart = content.indexOf('\n', lineStart) + 1;
  const lines: string[] = [];
  for (let line = first; line <= last; line += 1) {
    const lineEnd = content.indexOf('\n', lineStart);
    lines.push(content.slice(lineStart, lineEnd === -1 ? content.length : lineEnd));
    lineStart = lineEnd + 1;
  }
  return lines;
}
