import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isLokiError } from '../errors/index.ts';

/**
 * A tool's answer: a first line for the person reading the conversation, then the data as JSON
 * for the model. Loki's own errors become MCP tool errors (isError) whose text is the error's code
 * and message, which says how to go on; anything else is rethrown, so the SDK reports it as the
 * internal failure it is.
 */
export async function toolAnswer(
  work: () => Promise<{ summary: string; data?: unknown }>,
): Promise<CallToolResult> {
  try {
    const { summary, data } = await work();
    const text = data === undefined ? summary : `${summary}\n\n${JSON.stringify(data, null, 2)}`;
    return { content: [{ type: 'text', text }] };
  } catch (error) {
    if (!isLokiError(error)) throw error;
    return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }] };
  }
}
