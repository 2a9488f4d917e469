import { z } from 'zod';
import { readTextFile } from './read-text-file.ts';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { defineTool } from './tool.ts';

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
    'Use start_line/end_line for a part of a large file. Binary files are refused.',
  inputSchema,
  async execute(input, context) {
    const target = await resolveWorkspacePath(context.worktree, input.path, 'read');
    const content = await readTextFile(target.absolutePath, target.relativePath);
    if (content === '') return { output: `(${target.relativePath} is empty)` };
    const lines = content.endsWith('\n') ? content.slice(0, -1).split('\n') : content.split('\n');
    const startLine = input.start_line ?? 1;
    const endLine = Math.min(input.end_line ?? lines.length, lines.length);
    if (startLine > lines.length) {
      return {
        output: `start_line ${startLine} is past the end of ${target.relativePath} (${lines.length} lines).`,
        isError: true,
      };
    }
    const numbered = lines
      .slice(startLine - 1, endLine)
      .map((line, index) => `${String(startLine + index).padStart(6)}\t${line}`);
    const isPartial = startLine > 1 || endLine < lines.length;
    const footer = isPartial ? [`(lines ${startLine}-${endLine} of ${lines.length})`] : [];
    return { output: [...numbered, ...footer].join('\n') };
  },
});
