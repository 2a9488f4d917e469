import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { defineTool } from './tool.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';
import { errorCode } from '../errors/index.ts';

const MAX_ENTRIES = 1_000;

const inputSchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .optional()
    .describe('Directory relative to the worktree root; defaults to the root.'),
});

export const listDirTool = defineTool({
  name: 'list_dir',
  description:
    'List the entries of a directory in the worktree, sorted by name. Directories end with `/`, symlinks show their target.',
  inputSchema,
  async execute(input, context) {
    const target = await resolveWorkspacePath(context.worktree, input.path ?? '.', 'read');
    const entries = await readdir(target.absolutePath, { withFileTypes: true }).catch((error: unknown) => {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw toolUsageError(
          ToolErrorCode.fileUnreadable,
          code === 'ENOENT'
            ? `Directory not found: ${target.relativePath}.`
            : `${target.relativePath} is a file, not a directory; use read_file.`,
        );
      }
      throw error;
    });
    entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    const lines: string[] = [];
    for (const entry of entries.slice(0, MAX_ENTRIES)) {
      if (entry.isSymbolicLink()) {
        lines.push(`${entry.name} -> ${await readlink(join(target.absolutePath, entry.name))}`);
      } else {
        lines.push(entry.isDirectory() ? `${entry.name}/` : entry.name);
      }
    }
    if (entries.length > MAX_ENTRIES)
      lines.push(`(${entries.length - MAX_ENTRIES} more entries not shown; use glob)`);
    if (lines.length === 0) return { output: `(${target.relativePath} is empty)` };
    return { output: lines.join('\n') };
  },
});
