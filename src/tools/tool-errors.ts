import { isLokiError, LokiError } from '../errors/index.ts';
import { SandboxErrorCode } from '../sandbox/index.ts';

export const ToolErrorCode = {
  pathEscape: 'TOOL_PATH_ESCAPE',
  gitDirectoryWrite: 'TOOL_GIT_DIRECTORY_WRITE',
  invalidPath: 'TOOL_INVALID_PATH',
  fileUnreadable: 'TOOL_FILE_UNREADABLE',
  editFailed: 'TOOL_EDIT_FAILED',
  invalidPattern: 'TOOL_INVALID_PATTERN',
  /** A grep or glob pattern that did not finish within the search deadline or memory limit. */
  searchTooSlow: 'TOOL_SEARCH_TOO_SLOW',
  /** A named pipe, device or socket where a regular file or directory was expected. */
  unsupportedFileType: 'TOOL_UNSUPPORTED_FILE_TYPE',
  unknownTool: 'TOOL_UNKNOWN',
} as const;

/** A mistake in the tool call the model can fix; the message says how. */
export function toolUsageError(
  code: (typeof ToolErrorCode)[keyof typeof ToolErrorCode],
  message: string,
  context: Record<string, unknown> = {},
): LokiError {
  return new LokiError(message, { code, category: 'user', context });
}

/** `path_escape`: `..` or an absolute path leaves the worktree; `symlink_escape`: a symlink does. */
export type PathRefusalReason = 'path_escape' | 'symlink_escape' | 'git_directory';

export function pathRefusedError(
  requestedPath: string,
  reason: PathRefusalReason,
  detail: string,
): LokiError {
  const advice =
    reason === 'git_directory'
      ? 'The .git directory is managed by the harness; change files in the worktree and let it commit.'
      : 'Use a path inside the worktree, relative to its root (for example `src/index.ts`).';
  return new LokiError(`Refused: ${detail}. ${advice}`, {
    code: reason === 'git_directory' ? ToolErrorCode.gitDirectoryWrite : ToolErrorCode.pathEscape,
    category: 'user',
    context: { requestedPath, refusalReason: reason },
  });
}

export function invalidPathError(requestedPath: string, detail: string): LokiError {
  return toolUsageError(ToolErrorCode.invalidPath, detail, { requestedPath });
}

/** The `sandbox.refused` reason for an error, or null when the error is not a refusal. */
export function refusalReasonOf(error: unknown): string | null {
  if (!isLokiError(error)) return null;
  if (error.code === SandboxErrorCode.commandDenied) return 'command_denied';
  const reason = error.context.refusalReason;
  return typeof reason === 'string' ? reason : null;
}
