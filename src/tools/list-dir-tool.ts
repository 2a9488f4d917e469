import type { Dirent } from 'node:fs';
import { opendir, readlink } from 'node:fs/promises';
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
    const { entries, total } = await firstEntriesByName(target.absolutePath).catch((error: unknown) => {
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
    const lines: string[] = [];
    for (const entry of entries) {
      if (entry.isSymbolicLink()) {
        lines.push(`${entry.name} -> ${await readlink(join(target.absolutePath, entry.name))}`);
      } else {
        lines.push(entry.isDirectory() ? `${entry.name}/` : entry.name);
      }
    }
    if (total > MAX_ENTRIES) lines.push(`(${total - MAX_ENTRIES} more entries not shown; use glob)`);
    if (lines.length === 0) return { output: `(${target.relativePath} is empty)` };
    return { output: lines.join('\n') };
  },
});

/**
 * The first MAX_ENTRIES entries by name and how many there are. The directory is read in batches
 * and only a bounded window is ever sorted, so that a directory of a million files (an agent can
 * make one) never holds the event loop in one long sort.
 */
async function firstEntriesByName(path: string): Promise<{ entries: Dirent[]; total: number }> {
  const kept: Dirent[] = [];
  let total = 0;
  for await (const entry of await opendir(path, { bufferSize: 256 })) {
    total += 1;
    kept.push(entry);
    if (kept.length >= 2 * MAX_ENTRIES) keepFirst(kept);
  }
  keepFirst(kept);
  return { entries: kept, total };
}

function keepFirst(entries: Dirent[]): void {
  entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  entries.length = Math.min(entries.length, MAX_ENTRIES);
}
