import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { AppContext } from '../app/index.ts';
import { createLokiMcpServer } from './create-loki-mcp-server.ts';

export interface ServeLokiMcpOptions {
  context: AppContext;
  version: string;
  input: Readable;
  output: Writable;
}

/**
 * Serves `loki mcp` over stdio until the client closes our stdin, which is how MCP clients end the
 * servers they start (the SDK's stdio transport does not watch for that end itself). Runs started
 * from it go on: they are detached processes of their own.
 */
export async function serveLokiMcp(options: ServeLokiMcpOptions): Promise<void> {
  const server = createLokiMcpServer(options.context, options.version);
  const inputEnded = once(options.input, 'end');
  await server.connect(new StdioServerTransport(options.input, options.output));
  await inputEnded;
  await server.close();
}
