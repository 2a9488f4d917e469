import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AppContext } from '../app/index.ts';
import { registerRunTools } from './run-tools.ts';
import { registerTaskTools } from './task-tools.ts';
import { registerWorkspaceResources } from './workspace-resources.ts';

/** The name MCP clients know the server by; Claude Code shows its tools as `mcp__loki__<tool>`. */
export const LOKI_MCP_SERVER_NAME = 'loki';

const INSTRUCTIONS =
  'Loki Mode turns a PRD into a built, tested, reviewed product with many agents. ' +
  'start_run starts a run in the background on a PRD file of the workspace and returns at once; ' +
  'poll status until the run has ended, then read_report. ' +
  'Tasks can be listed, shown, added, retried, cancelled and re-prioritised while it runs; ' +
  'pause_run, continue_run and stop_run steer it.';

/**
 * `loki mcp`: the app services of one workspace (`context.cwd`) as MCP tools and resources, for
 * people working from an MCP client. Every call goes through the same services as the CLI; no
 * input decides what is executed beyond choosing among them (start_run runs this installation's
 * own `loki run`).
 */
export function createLokiMcpServer(context: AppContext, version: string): McpServer {
  const server = new McpServer(
    { name: LOKI_MCP_SERVER_NAME, version },
    { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
  );
  registerRunTools(server, context);
  registerTaskTools(server, context);
  registerWorkspaceResources(server, context);
  return server;
}
