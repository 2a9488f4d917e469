export { createLokiMcpServer, LOKI_MCP_SERVER_NAME } from './create-loki-mcp-server.ts';
export { lokiMcpCommand } from './loki-mcp-command.ts';
export { serveLokiMcp, type ServeLokiMcpOptions } from './serve-loki-mcp.ts';
