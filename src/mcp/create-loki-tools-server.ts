import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { LokiAgentTool } from './loki-agent-tools.ts';

/** The MCP server name agent CLIs see; Codex reports calls as `loki` / `<tool>`. */
export const LOKI_MCP_SERVER_NAME = 'loki';

/**
 * An MCP server offering Loki's agent tools. It is built on the SDK's low-level `Server` rather than
 * `McpServer.registerTool` because the latter answers invalid input with its own wording, and a
 * model must read the same validation errors over MCP as on the API path.
 */
export function createLokiToolsServer(tools: readonly LokiAgentTool[], version: string): Server {
  const server = new Server({ name: LOKI_MCP_SERVER_NAME, version }, { capabilities: { tools: {} } });
  const byName = new Map(tools.map((tool) => [tool.name as string, tool]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: toInputJsonSchema(tool.inputSchema),
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const tool = byName.get(request.params.name);
    if (tool === undefined) {
      const offered = tools.map((known) => known.name).join(', ');
      return {
        isError: true,
        content: [
          { type: 'text', text: `unknown tool "${request.params.name}"; this session offers ${offered}` },
        ],
      };
    }
    const answer = tool.call(request.params.arguments ?? {});
    return { isError: answer.isError, content: [{ type: 'text', text: answer.text }] };
  });
  return server;
}

function toInputJsonSchema(schema: z.ZodType): { type: 'object'; [key: string]: unknown } {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input' }) as Record<
    string,
    unknown
  >;
  return { ...jsonSchema, type: 'object' };
}
