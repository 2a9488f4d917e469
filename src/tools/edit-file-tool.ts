import { z } from 'zod';
import { readTextFile } from './read-text-file.ts';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { defineTool } from './tool.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';
import { writeTextFile } from './write-text-file.ts';

const inputSchema = z
  .strictObject({
    path: z.string().min(1).describe('File path relative to the worktree root.'),
    old_string: z.string().min(1).describe('Exact text to replace, including whitespace and indentation.'),
    new_string: z.string().describe('Replacement text.'),
    replace_all: z.boolean().optional().describe('Replace every occurrence instead of exactly one.'),
  })
  .refine((input) => input.old_string !== input.new_string, {
    message: 'new_string is the same as old_string; there is nothing to change',
    path: ['new_string'],
  });

export const editFileTool = defineTool({
  name: 'edit_file',
  description:
    'Replace an exact string in a file. old_string must occur exactly once (add surrounding lines to make it unique) ' +
    'unless replace_all is true. Do not include read_file line numbers in old_string.',
  inputSchema,
  async execute(input, context) {
    const target = await resolveWorkspacePath(context.worktree, input.path, 'write');
    const content = await readTextFile(target.absolutePath, target.relativePath);
    const pieces = content.split(input.old_string);
    const occurrences = pieces.length - 1;
    if (occurrences === 0) {
      throw toolUsageError(
        ToolErrorCode.editFailed,
        `old_string was not found in ${target.relativePath}. Read the file again with read_file; the match must be exact, including whitespace and indentation.`,
      );
    }
    if (occurrences > 1 && input.replace_all !== true) {
      throw toolUsageError(
        ToolErrorCode.editFailed,
        `old_string occurs ${occurrences} times in ${target.relativePath}. Include more surrounding lines to make it unique, or set replace_all to true.`,
      );
    }
    // split/join, not String.replace: `$&` and friends in new_string must stay literal.
    await writeTextFile(target.absolutePath, pieces.join(input.new_string), target.relativePath);
    return {
      output: `Replaced ${occurrences} occurrence${occurrences === 1 ? '' : 's'} in ${target.relativePath}.`,
    };
  },
});
