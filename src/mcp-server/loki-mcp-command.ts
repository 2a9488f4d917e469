import { LOKI_ENTRY_POINT } from '../workspace/index.ts';

/** This installation's `loki` entry point; the same relative place from src/ and dist/. */

/**
 * How an MCP client starts `loki mcp` for a workspace: this Node running this installation's
 * entry point, so the client needs no `loki` on its PATH. Without `cwd` the server serves the
 * directory the client starts it in (Claude Code: the project).
 */
export function lokiMcpCommand(options: { cwd?: string } = {}): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [LOKI_ENTRY_POINT, 'mcp', ...(options.cwd === undefined ? [] : ['--cwd', options.cwd])],
  };
}
