import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { resolveWorkspacePath } from './resolve-workspace-path.ts';
import { defineTool } from './tool.ts';
import { writeTextFile } from './write-text-file.ts';

const inputSchema = z.strictObject({
  path: z.string().min(1).describe('File path relative to the worktree root.'),
  content: z.string().describe('The complete new content of the file.'),
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    'Create or overwrite a file in the worktree with the given content; missing parent directories are created. ' +
    'For a small change to an existing file prefer edit_file.',
  inputSchema,
  async execute(input, context) {
    const target = await resolveWorkspacePath(context.worktree, input.path, 'write');
    await mkdir(dirname(target.absolutePath), { recursive: true });
    await writeTextFile(target.absolutePath, input.content, target.relativePath);
    const lineCount = input.content === '' ? 0 : input.content.split('\n').length;
    const bytes = Buffer.byteLength(input.content);
    return {
      output: `${target.exists ? 'Overwrote' : 'Created'} ${target.relativePath} (${bytes} bytes, ${lineCount} lines).`,
    };
  },
});
