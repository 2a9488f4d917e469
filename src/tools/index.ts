export { ALL_TOOLS, toolsForNames } from './all-tools.ts';
export { editFileTool } from './edit-file-tool.ts';
export { executeTool, type ExecuteToolOptions } from './execute-tool.ts';
export { gitDiffTool } from './git-diff-tool.ts';
export { gitStatusTool } from './git-status-tool.ts';
export { globTool } from './glob-tool.ts';
export { grepTool } from './grep-tool.ts';
export { listDirTool } from './list-dir-tool.ts';
export { readFileTool } from './read-file-tool.ts';
export { type PathPurpose, resolveWorkspacePath, type WorkspacePath } from './resolve-workspace-path.ts';
export { runCommandTool } from './run-command-tool.ts';
export { taskCompleteTool } from './task-complete-tool.ts';
export {
  defineTool,
  type TaskCompletion,
  type Tool,
  type ToolContext,
  type ToolExecution,
  type ToolRefusal,
  type ToolResult,
} from './tool.ts';
export { type PathRefusalReason, ToolErrorCode } from './tool-errors.ts';
export { formatInputError } from './format-input-error.ts';
export { DEFAULT_MAX_OUTPUT_CHARACTERS } from './truncate-tool-output.ts';
export { writeFileTool } from './write-file-tool.ts';
export { type AgentToolCall, type AgentToolOutcome, createAgentToolset } from './create-agent-toolset.ts';
