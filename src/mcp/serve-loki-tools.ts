import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createLokiToolsServer } from './create-loki-tools-server.ts';
import { createLokiAgentTools, type LokiAgentToolName, type LokiToolContext } from './loki-agent-tools.ts';

export interface ServeLokiToolsOptions {
  tools: readonly LokiAgentToolName[];
  context: LokiToolContext;
  version: string;
  input: Readable;
  output: Writable;
}

/**
 * Serves Loki's agent tools over stdio until the client closes its end of our stdin, which is how
 * an agent CLI ends the MCP servers it started. The SDK's stdio transport does not watch for that
 * end itself, so it is awaited here.
 */
export async function serveLokiTools(options: ServeLokiToolsOptions): Promise<void> {
  const server = createLokiToolsServer(createLokiAgentTools(options.tools, options.context), options.version);
  const inputEnded = once(options.input, 'end');
  await server.connect(new StdioServerTransport(options.input, options.output));
  await inputEnded;
  await server.close();
}
