import { editFileTool } from './edit-file-tool.ts';
import { gitDiffTool } from './git-diff-tool.ts';
import { gitStatusTool } from './git-status-tool.ts';
import { globTool } from './glob-tool.ts';
import { grepTool } from './grep-tool.ts';
import { listDirTool } from './list-dir-tool.ts';
import { readFileTool } from './read-file-tool.ts';
import { runCommandTool } from './run-command-tool.ts';
import { taskCompleteTool } from './task-complete-tool.ts';
import type { Tool } from './tool.ts';
import { ToolErrorCode, toolUsageError } from './tool-errors.ts';
import { writeFileTool } from './write-file-tool.ts';

/** Every tool, in the order they are offered to a model. */
export const ALL_TOOLS: readonly Tool[] = [
  readFileTool,
  writeFileTool,
  editFileTool,
  listDirTool,
  globTool,
  grepTool,
  runCommandTool,
  gitStatusTool,
  gitDiffTool,
  taskCompleteTool,
];

/** The tools an agent type may use, in the order given; an unknown name is a configuration error. */
export function toolsForNames(names: readonly string[]): Tool[] {
  return names.map((name) => {
    const tool = ALL_TOOLS.find((candidate) => candidate.name === name);
    if (tool === undefined) {
      throw toolUsageError(
        ToolErrorCode.unknownTool,
        `Unknown tool "${name}". Known tools: ${ALL_TOOLS.map((candidate) => candidate.name).join(', ')}.`,
        { name },
      );
    }
    return tool;
  });
}
