import { z } from 'zod';
import { truncateText } from './describe-text.ts';
import { parseJsonLine } from './parse-json-line.ts';

/**
 * One line of `codex exec --json` (the ThreadEvent JSONL of codex-rs/exec), reduced to what Loki
 * uses: thread.started, turn.started/completed/failed, item.started/updated/completed (items are
 * agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search, todo_list,
 * error), and top-level `error` (fatal errors, and the "Reconnecting... n/m" notices of its own
 * retries). Unknown line and item types are ignored so a newer Codex does not break the runtime.
 */
export type CodexLine =
  | { kind: 'thread_started'; threadId: string }
  | { kind: 'turn_started' }
  | { kind: 'turn_completed'; usage: CodexUsage }
  | { kind: 'turn_failed'; message: string }
  | { kind: 'item'; phase: 'started' | 'updated' | 'completed'; item: CodexItem }
  | { kind: 'error'; message: string }
  | { kind: 'ignored'; type: string }
  | { kind: 'unparseable'; reason: string; line: string };

/** Codex follows OpenAI: `inputTokens` includes the cached ones. */
export interface CodexUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

export type CodexItem =
  | { type: 'agent_message'; id: string; text: string }
  | {
      type: 'command_execution';
      id: string;
      command: string;
      output: string;
      exitCode: number | null;
      status: string;
    }
  | { type: 'file_change'; id: string; changes: Array<{ path: string; kind: string }>; status: string }
  | {
      type: 'mcp_tool_call';
      id: string;
      server: string;
      tool: string;
      arguments: unknown;
      output: string;
      errorMessage: string | null;
      status: string;
    }
  | { type: 'web_search'; id: string; query: string }
  | { type: 'other'; id: string; itemType: string };

const count = z.number().nonnegative().catch(0);
const itemEnvelopeSchema = z.looseObject({ id: z.string(), type: z.string() });
const agentMessageSchema = z.object({ text: z.string() });
const commandSchema = z.object({
  command: z.string(),
  aggregated_output: z.string().nullish(),
  exit_code: z.number().nullish(),
  status: z.string(),
});
const fileChangeSchema = z.object({
  changes: z.array(z.object({ path: z.string(), kind: z.string() })),
  status: z.string(),
});
const mcpToolCallSchema = z.object({
  server: z.string(),
  tool: z.string(),
  arguments: z.unknown(),
  result: z.object({ content: z.array(z.unknown()) }).nullish(),
  error: z.object({ message: z.string() }).nullish(),
  status: z.string(),
});
const webSearchSchema = z.object({ query: z.string() });
const usageSchema = z.object({ input_tokens: count, cached_input_tokens: count, output_tokens: count });
const lineSchema = z.looseObject({ type: z.string() });

const MAXIMUM_TOOL_OUTPUT_CHARACTERS = 4_000;
const MAXIMUM_QUOTED_LINE_CHARACTERS = 500;

export function parseCodexLine(text: string): CodexLine {
  const json = parseJsonLine(text);
  const quoted = truncateText(text, MAXIMUM_QUOTED_LINE_CHARACTERS);
  if (!json.isValid) return { kind: 'unparseable', reason: `not JSON (${json.reason})`, line: quoted };
  const line = lineSchema.safeParse(json.value);
  if (!line.success) return { kind: 'unparseable', reason: 'not an object with a "type"', line: quoted };
  const fields = line.data;
  const malformed = (): CodexLine => ({
    kind: 'unparseable',
    reason: `malformed ${fields.type} line`,
    line: quoted,
  });

  switch (fields.type) {
    case 'thread.started':
      return typeof fields.thread_id === 'string'
        ? { kind: 'thread_started', threadId: fields.thread_id }
        : malformed();
    case 'turn.started':
      return { kind: 'turn_started' };
    case 'turn.completed': {
      const usage = usageSchema.safeParse(fields.usage);
      if (!usage.success) return malformed();
      return {
        kind: 'turn_completed',
        usage: {
          inputTokens: usage.data.input_tokens,
          cachedInputTokens: usage.data.cached_input_tokens,
          outputTokens: usage.data.output_tokens,
        },
      };
    }
    case 'turn.failed': {
      const error = z.object({ message: z.string() }).safeParse(fields.error);
      return { kind: 'turn_failed', message: error.success ? error.data.message : 'turn failed' };
    }
    case 'item.started':
    case 'item.updated':
    case 'item.completed': {
      const item = parseItem(fields.item);
      if (item === null) return malformed();
      const phase =
        fields.type === 'item.started' ? 'started' : fields.type === 'item.updated' ? 'updated' : 'completed';
      return { kind: 'item', phase, item };
    }
    case 'error':
      return typeof fields.message === 'string' ? { kind: 'error', message: fields.message } : malformed();
    default:
      return { kind: 'ignored', type: fields.type };
  }
}

function parseItem(value: unknown): CodexItem | null {
  const envelope = itemEnvelopeSchema.safeParse(value);
  if (!envelope.success) return null;
  const { id, type } = envelope.data;
  switch (type) {
    case 'agent_message': {
      const item = agentMessageSchema.safeParse(value);
      return item.success ? { type, id, text: item.data.text } : null;
    }
    case 'command_execution': {
      const item = commandSchema.safeParse(value);
      if (!item.success) return null;
      return {
        type,
        id,
        command: item.data.command,
        output: truncateText(item.data.aggregated_output ?? '', MAXIMUM_TOOL_OUTPUT_CHARACTERS),
        exitCode: item.data.exit_code ?? null,
        status: item.data.status,
      };
    }
    case 'file_change': {
      const item = fileChangeSchema.safeParse(value);
      return item.success ? { type, id, changes: item.data.changes, status: item.data.status } : null;
    }
    case 'mcp_tool_call': {
      const item = mcpToolCallSchema.safeParse(value);
      if (!item.success) return null;
      const content = item.data.result?.content ?? [];
      return {
        type,
        id,
        server: item.data.server,
        tool: item.data.tool,
        arguments: item.data.arguments,
        output: truncateText(content.map(describeContent).join('\n'), MAXIMUM_TOOL_OUTPUT_CHARACTERS),
        errorMessage: item.data.error?.message ?? null,
        status: item.data.status,
      };
    }
    case 'web_search': {
      const item = webSearchSchema.safeParse(value);
      return item.success ? { type, id, query: item.data.query } : null;
    }
    default:
      return { type: 'other', id, itemType: type };
  }
}

function describeContent(block: unknown): string {
  const text = z.object({ type: z.literal('text'), text: z.string() }).safeParse(block);
  return text.success ? text.data.text : JSON.stringify(block);
}
