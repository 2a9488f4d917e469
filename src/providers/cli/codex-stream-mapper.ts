import type { Clock } from '../../clock/index.ts';
import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import { classifyCodexFailure } from './classify-codex-failure.ts';
import { emptyUsageTotals } from '../pricing/index.ts';
import type { CliRuntimeUsage } from './cli-runtime-result.ts';
import type { ThreadEvent, ThreadItem, Usage } from '@openai/codex-sdk';
import type { CliTaskCompletion } from './cli-runtime-result.ts';
import type { CompletedTurn } from './cli-turn-meter.ts';

export interface CodexStreamMapperOptions {
  emit: EmitRuntimeEvent;
  /** Codex does not report its model in the stream: this is the one Loki asked for. */
  model: string;
  clock: Clock;
  /**
   * Checks a call of Loki's `task_complete` (served by `loki mcp-tools` as MCP server `loki`)
   * again in this process: the MCP server's answer never decides. Null when the call is invalid.
   */
  acceptTaskComplete?: (input: unknown) => CliTaskCompletion | null;
  /**
   * Sees every finished call of a tool of Loki's MCP server, whatever the server answered: Loki
   * judges the arguments again itself (a planner's submission, its repair rounds).
   */
  onLokiToolCall?: (tool: string, input: unknown) => void;
}

export const CODEX_PROVIDER = 'codex';

/** "Reconnecting... 2/5 (stream disconnected before completion)": Codex retrying on its own. */
const RECONNECTING = /^Reconnecting\S*\s+(\d+)\/(\d+)/;

/** Codex names an MCP server's tools by server and tool; this is Loki's. */
const LOKI_SERVER = 'loki';

/**
 * Turns the Codex SDK's thread events into Loki events, and keeps what the runtime needs to decide how
 * an attempt ended. Codex does not report its model calls: `steps` counts the items it completed
 * (messages and tool calls), the closest measure of progress its stream offers.
 */
export class CodexStreamMapper {
  threadId: string | null = null;
  steps = 0;
  readonly usage: CliRuntimeUsage = emptyUsageTotals();
  lastMessage: string | null = null;
  /** Set when the current attempt's turn completed. */
  hasCompletedTurn = false;
  /** The failure the current attempt reported (turn.failed, or a fatal error before it). */
  attemptFailureMessage: string | null = null;
  /** The accepted `task_complete` call of the current attempt. */
  completion: CliTaskCompletion | null = null;

  readonly #options: CodexStreamMapperOptions;
  readonly #pendingTools = new Map<string, number>();

  constructor(options: CodexStreamMapperOptions) {
    this.#options = options;
  }

  beginAttempt(): void {
    this.hasCompletedTurn = false;
    this.attemptFailureMessage = null;
    this.completion = null;
  }

  /** Event types this version does not know are ignored, so a newer Codex does not break a run. */
  /** Maps one event; returns the turn it completed, with its usage, for the caller to charge. */
  handleEvent(event: ThreadEvent): CompletedTurn | null {
    switch (event.type) {
      case 'thread.started':
        // The agent session was announced (agent.started) by the RARV cycle that runs this CLI.
        this.threadId = event.thread_id;
        return null;
      case 'turn.completed':
        this.hasCompletedTurn = true;
        this.usage.modelCalls = this.steps;
        return this.#turnOf(event.usage);
      case 'turn.failed':
        this.attemptFailureMessage = event.error.message;
        return null;
      case 'error':
        this.#handleError(event.message);
        return null;
      case 'item.started':
        this.#handleItemStarted(event.item);
        return null;
      case 'item.completed':
        this.#handleItemCompleted(event.item);
        return null;
      default:
        return null;
    }
  }

  #handleError(message: string): void {
    const reconnecting = RECONNECTING.exec(message);
    if (reconnecting === null) {
      // A fatal error; turn.failed normally follows and repeats it.
      this.attemptFailureMessage = message;
      return;
    }
    const failure = classifyCodexFailure(message, this.#options.clock);
    if (failure.category === 'rate_limited') {
      this.#options.emit('agent.rate_limited', { provider: CODEX_PROVIDER, retryAfterMilliseconds: null });
    }
    // Codex does not say how long it waits before reconnecting.
    this.#options.emit('agent.retry', {
      attempt: Number(reconnecting[1]),
      delayMilliseconds: 0,
      category: failure.category,
      reason: `Codex: ${message}`,
    });
  }

  #handleItemStarted(item: ThreadItem): void {
    const call = describeToolCall(item);
    if (call === null || this.#pendingTools.has(item.id)) return;
    this.#pendingTools.set(item.id, performance.now());
    this.#options.emit('agent.tool_called', { toolCallId: item.id, ...call });
  }

  #handleItemCompleted(item: ThreadItem): void {
    if (item.type === 'mcp_tool_call') this.#checkTaskComplete(item);
    if (item.type === 'agent_message') {
      this.steps += 1;
      this.lastMessage = item.text;
      if (item.text.trim() !== '') this.#options.emit('agent.text', { text: item.text });
      return;
    }
    const call = describeToolCall(item);
    const result = describeToolResult(item);
    if (call === null || result === null) return;
    // A file change (and a declined command) can arrive completed without having started.
    if (!this.#pendingTools.has(item.id))
      this.#options.emit('agent.tool_called', { toolCallId: item.id, ...call });
    const startedAt = this.#pendingTools.get(item.id);
    this.#pendingTools.delete(item.id);
    this.steps += 1;
    this.#options.emit('agent.tool_result', {
      toolCallId: item.id,
      toolName: call.toolName,
      ...result,
      fullOutputPath: null,
      durationMilliseconds: startedAt === undefined ? 0 : Math.round(performance.now() - startedAt),
    });
  }

  #checkTaskComplete(item: Extract<ThreadItem, { type: 'mcp_tool_call' }>): void {
    if (item.server === LOKI_SERVER && item.status !== 'in_progress') {
      this.#options.onLokiToolCall?.(item.tool, item.arguments);
    }
    if (item.server !== LOKI_SERVER || item.tool !== 'task_complete' || item.status !== 'completed') return;
    this.completion = this.#options.acceptTaskComplete?.(item.arguments) ?? this.completion;
  }

  /** A turn's usage: Codex counts cached tokens inside its input total; Loki counts them apart. */
  #turnOf(usage: Usage): CompletedTurn {
    return {
      modelId: this.#options.model,
      tokens: {
        inputTokens: Math.max(0, usage.input_tokens - usage.cached_input_tokens),
        outputTokens: usage.output_tokens,
        cacheReadTokens: usage.cached_input_tokens,
        cacheWriteTokens: usage.cache_write_input_tokens ?? 0,
      },
    };
  }
}

function describeToolCall(item: ThreadItem): { toolName: string; input: unknown } | null {
  switch (item.type) {
    case 'command_execution':
      return { toolName: 'command_execution', input: { command: item.command } };
    case 'file_change':
      return { toolName: 'file_change', input: { changes: item.changes } };
    case 'mcp_tool_call':
      return { toolName: `mcp:${item.server}/${item.tool}`, input: item.arguments };
    case 'web_search':
      return { toolName: 'web_search', input: { query: item.query } };
    default:
      return null;
  }
}

function describeToolResult(item: ThreadItem): { isError: boolean; output: string } | null {
  switch (item.type) {
    case 'command_execution':
      return {
        isError: item.status !== 'completed' || (item.exit_code ?? 0) !== 0,
        output: item.aggregated_output,
      };
    case 'file_change':
      return {
        isError: item.status !== 'completed',
        output: item.changes.map((change) => `${change.kind} ${change.path}`).join('\n'),
      };
    case 'mcp_tool_call':
      return { isError: item.status !== 'completed', output: item.error?.message ?? describeMcpResult(item) };
    case 'web_search':
      return { isError: false, output: `searched: ${item.query}` };
    default:
      return null;
  }
}

function describeMcpResult(item: Extract<ThreadItem, { type: 'mcp_tool_call' }>): string {
  return (item.result?.content ?? [])
    .map((block) => (block.type === 'text' ? block.text : `[${block.type}]`))
    .join('\n');
}
