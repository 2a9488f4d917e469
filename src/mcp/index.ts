export { createLokiToolsServer, LOKI_MCP_SERVER_NAME } from './create-loki-tools-server.ts';
export {
  createLokiAgentTools,
  LOKI_AGENT_TOOL_NAMES,
  type LokiAgentTool,
  type LokiAgentToolName,
  type LokiToolContext,
  lokiToolContextSchema,
} from './loki-agent-tools.ts';
export { serveLokiTools, type ServeLokiToolsOptions } from './serve-loki-tools.ts';
export {
  acceptTaskCompleteInput,
  type AcceptedTaskCompletion,
  codexToolGuardCommand,
  lokiToolsCommand,
} from './loki-tools-command.ts';
