import {
  createSdkMcpServer,
  type McpSdkServerConfigWithInstance,
  tool,
} from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';

/** The name Claude Code knows Loki's tools by: `mcp__loki__<tool>`. */
export const LOKI_MCP_SERVER = 'loki';

/** One of Loki's own tools (a planning submission, task_complete) offered to Claude Code. */
export interface LokiMcpTool {
  name: string;
  description: string;
  /** What the model sees; Loki validates the input itself in `handle`. */
  inputSchema: z.ZodObject;
  /** Gets the input exactly as the model wrote it, valid or not. */
  handle: (input: unknown) => Promise<{ isError: boolean; output: string }>;
}

export function lokiMcpToolName(name: string): string {
  return `mcp__${LOKI_MCP_SERVER}__${name}`;
}

/**
 * Loki's tools as an in-process MCP server of the Agent SDK. The MCP layer would reject input that
 * does not match the schema before Loki sees it, so an invalid submission would never count as a
 * repair round and the model would get zod's raw messages instead of Loki's. So each field is
 * declared as "anything" carrying the real field's JSON Schema: the model sees the real schema,
 * and the handler gets every call and answers it with the same validation as the API path.
 */
export function createLokiMcpServer(tools: readonly LokiMcpTool[]): McpSdkServerConfigWithInstance {
  return createSdkMcpServer({
    name: LOKI_MCP_SERVER,
    // Loki's tools are the point of the session: never hidden behind tool search.
    alwaysLoad: true,
    tools: tools.map((lokiTool) =>
      tool(lokiTool.name, describeTool(lokiTool), permissiveShape(lokiTool.inputSchema), async (input) => {
        const outcome = await lokiTool.handle(input);
        return { content: [{ type: 'text', text: outcome.output }], isError: outcome.isError };
      }),
    ),
  });
}

function permissiveShape(schema: z.ZodObject): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const fieldSchema = z.toJSONSchema(field as z.ZodType, { io: 'input', unrepresentable: 'any' });
    delete fieldSchema.$schema;
    shape[key] = z.unknown().optional().meta(fieldSchema);
  }
  return shape;
}

/** The permissive shape cannot mark fields required, so the description says which are. */
function describeTool(lokiTool: LokiMcpTool): string {
  const required = Object.entries(lokiTool.inputSchema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);
  return required.length === 0
    ? lokiTool.description
    : `${lokiTool.description} Required fields: ${required.join(', ')}.`;
}
