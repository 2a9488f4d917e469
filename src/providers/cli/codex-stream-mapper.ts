import type { Clock } from '../../clock/index.ts';
import type { PriceTable } from '../price-table.ts';
import { priceUsage } from '../price-usage.ts';
import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import { classifyCodexFailure } from './classify-codex-failure.ts';
import { emptyUsageTotals } from '../usage-totals.ts';
import type { CliRuntimeUsage } from './cli-runtime-result.ts';
import { type CodexItem, type CodexUsage, parseCodexLine } from './parse-codex-line.ts';

export interface CodexStreamMapperOptions {
  emit: EmitRuntimeEvent;
  /** Codex does not report its model in the stream: this is the one Loki asked for. */
  model: string;
  clock: Clock;
  priceTable?: PriceTable;
}

export const CODEX_PROVIDER = 'codex';

/** "Reconnecting... 2/5 (stream disconnected before completion)": Codex retrying on its own. */
const RECONNECTING = /^Reconnecting\S*\s+(\d+)\/(\d+)/;

/**
 * Turns `codex exec --json` lines into Loki events, and keeps what the runtime needs to decide how
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

  readonly #options: CodexStreamMapperOptions;
  readonly #pendingTools = new Map<string, number>();

  constructor(options: CodexStreamMapperOptions) {
    this.#options = options;
  }

  beginAttempt(): void {
    this.hasCompletedTurn = false;
    this.attemptFailureMessage = null;
  }

  handleLine(text: string): void {
    if (text.trim() === '') return;
    const line = parseCodexLine(text);
    const emit = this.#options.emit;
    switch (line.kind) {
      case 'thread_started':
        // The agent session was announced (agent.started) by the RARV cycle that runs this CLI.
        this.threadId = line.threadId;
        return;
      case 'turn_completed':
        this.hasCompletedTurn = true;
        this.#recordUsage(line.usage);
        return;
      case 'turn_failed':
        this.attemptFailureMessage = line.message;
        return;
      case 'error':
        this.#handleError(line.message);
        return;
      case 'item':
        if (line.phase === 'started') this.#handleItemStarted(line.item);
        if (line.phase === 'completed') this.#handleItemCompleted(line.item);
        return;
      case 'turn_started':
      case 'ignored':
        return;
      case 'unparseable':
        // Logged, not fatal: one odd line must not cost a whole agent run.
        emit('agent.error', {
          code: 'CODEX_UNPARSEABLE_OUTPUT',
          category: 'internal',
          message: `ignored a line of Codex output (${line.reason}): ${line.line}`,
        });
        return;
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

  #handleItemStarted(item: CodexItem): void {
    const call = describeToolCall(item);
    if (call === null || this.#pendingTools.has(item.id)) return;
    this.#pendingTools.set(item.id, performance.now());
    this.#options.emit('agent.tool_called', { toolCallId: item.id, ...call });
  }

  #handleItemCompleted(item: CodexItem): void {
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

  #recordUsage(usage: CodexUsage): void {
    const tokens = {
      inputTokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens),
      outputTokens: usage.outputTokens,
      cacheReadTokens: usage.cachedInputTokens,
      cacheWriteTokens: 0,
    };
    const priced = priceUsage(this.#options.model, tokens, this.#options.priceTable);
    this.usage.inputTokens += tokens.inputTokens;
    this.usage.outputTokens += tokens.outputTokens;
    this.usage.cacheReadTokens += tokens.cacheReadTokens;
    this.usage.costUsd += priced.costUsd;
    this.usage.isCostKnown &&= priced.isPriceKnown;
    this.usage.modelCalls = this.steps;
    this.#options.emit('usage.recorded', {
      provider: CODEX_PROVIDER,
      model: this.#options.model,
      ...tokens,
      costUsd: priced.costUsd,
      isPriceKnown: priced.isPriceKnown,
    });
  }
}

function describeToolCall(item: CodexItem): { toolName: string; input: unknown } | null {
  switch (item.type) {
    case 'command_execution':
      return { toolName: 'command_execution', input: { command: item.command } };
    case 'file_change':
      return { toolName: 'file_change', input: { changes: item.changes } };
    case 'mcp_tool_call':
      return { toolName: `mcp:${item.server}/${item.tool}`, input: item.arguments };
    case 'web_search':
      return { toolName: 'web_search', input: { query: item.query } };
    case 'agent_message':
    case 'other':
      return null;
  }
}

function describeToolResult(item: CodexItem): { isError: boolean; output: string } | null {
  switch (item.type) {
    case 'command_execution':
      return { isError: item.status !== 'completed' || (item.exitCode ?? 0) !== 0, output: item.output };
    case 'file_change':
      return {
        isError: item.status !== 'completed',
        output: item.changes.map((change) => `${change.kind} ${change.path}`).join('\n'),
      };
    case 'mcp_tool_call':
      return { isError: item.status !== 'completed', output: item.errorMessage ?? item.output };
    case 'web_search':
      return { isError: false, output: `searched: ${item.query}` };
    case 'agent_message':
    case 'other':
      return null;
  }
}
