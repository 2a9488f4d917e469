import type { SDKAssistantMessage, SDKMessage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Clock } from '../../clock/index.ts';
import type { PriceTable } from '../price-table.ts';
import { priceUsage } from '../price-usage.ts';
import { emptyUsageTotals } from '../usage-totals.ts';
import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import { type ClaudeCodeApiError, classifyClaudeCodeApiError } from './classify-claude-code-failure.ts';
import type { CliRuntimeUsage } from './cli-runtime-result.ts';
import { truncateText } from './describe-text.ts';

export interface ClaudeCodeMessageMapperOptions {
  emit: EmitRuntimeEvent;
  clock: Clock;
  priceTable?: PriceTable;
}

export const CLAUDE_CODE_PROVIDER = 'claude-code';

const MAXIMUM_TOOL_OUTPUT_CHARACTERS = 4_000;

/**
 * Turns the Agent SDK's messages into Loki events, and keeps what the runtime needs to decide how
 * an attempt ended. One mapper spans every attempt of a run (a resumed session reports the same
 * session again), so tools, steps and usage add up across attempts.
 */
export class ClaudeCodeMessageMapper {
  sessionId: string | null = null;
  steps = 0;
  readonly usage: CliRuntimeUsage = emptyUsageTotals();
  /** The `result` message of the current attempt, once it arrived. */
  attemptResult: SDKResultMessage | null = null;
  /** The API failure the current attempt reported, if any. */
  attemptApiError: ClaudeCodeApiError | null = null;

  readonly #options: ClaudeCodeMessageMapperOptions;
  readonly #messageIds = new Set<string>();
  readonly #pendingTools = new Map<string, { name: string; startedAt: number }>();

  constructor(options: ClaudeCodeMessageMapperOptions) {
    this.#options = options;
  }

  beginAttempt(): void {
    this.attemptResult = null;
    this.attemptApiError = null;
  }

  handle(message: SDKMessage): void {
    const emit = this.#options.emit;
    switch (message.type) {
      case 'system':
        // The agent session was announced (agent.started) by the RARV cycle that runs this CLI.
        if (message.subtype === 'init') this.sessionId = message.session_id;
        if (message.subtype === 'api_retry') this.#handleApiRetry(message);
        return;
      case 'assistant':
        this.#handleAssistant(message);
        return;
      case 'user':
        this.#handleToolResults(message.message.content);
        return;
      case 'rate_limit_event': {
        // Subscription limits: only a rejected request means the agent is actually waiting.
        const info = message.rate_limit_info;
        if (info.status !== 'rejected') return;
        emit('agent.rate_limited', {
          provider: CLAUDE_CODE_PROVIDER,
          retryAfterMilliseconds:
            info.resetsAt === undefined
              ? null
              : Math.max(0, info.resetsAt * 1000 - this.#options.clock.now()),
        });
        return;
      }
      case 'result':
        this.#handleResult(message);
        return;
      default:
        // Hooks, progress, status and the like carry nothing Loki records.
        return;
    }
  }

  #handleAssistant(message: SDKAssistantMessage): void {
    // Only the main conversation counts; a subagent's turns are part of the tool call that started it.
    if (message.parent_tool_use_id !== null) return;
    const content = message.message.content;
    const apiErrorStatus = numberField(message, 'api_error_status');
    if (message.error !== undefined || apiErrorStatus !== null) {
      // Claude Code reports a failed API call as a synthetic assistant message with its own category.
      this.attemptApiError = {
        error: message.error ?? null,
        status: apiErrorStatus,
        type: null,
        message: content
          .map((block) => (block.type === 'text' ? block.text : ''))
          .join(' ')
          .trim(),
      };
      return;
    }
    // Claude Code may report one API message in several parts that share its id.
    if (!this.#messageIds.has(message.message.id)) {
      this.#messageIds.add(message.message.id);
      this.steps += 1;
      this.usage.modelCalls = this.steps;
    }
    for (const block of content) {
      if (block.type === 'text') {
        if (block.text.trim() !== '') this.#options.emit('agent.text', { text: block.text });
      } else if (block.type === 'tool_use' || block.type === 'mcp_tool_use') {
        this.#pendingTools.set(block.id, { name: block.name, startedAt: performance.now() });
        this.#options.emit('agent.tool_called', {
          toolCallId: block.id,
          toolName: block.name,
          input: block.input,
        });
      }
      // Thinking and other block types carry nothing Loki records.
    }
  }

  #handleToolResults(content: unknown): void {
    if (!Array.isArray(content)) return;
    for (const block of content as unknown[]) {
      if (!isToolResultBlock(block)) continue;
      const pending = this.#pendingTools.get(block.tool_use_id);
      // Results of tools a subagent called have no call in the main conversation: not Loki's to record.
      if (pending === undefined) continue;
      this.#pendingTools.delete(block.tool_use_id);
      this.#options.emit('agent.tool_result', {
        toolCallId: block.tool_use_id,
        toolName: pending.name,
        isError: block.is_error === true,
        output: truncateText(toolResultText(block.content), MAXIMUM_TOOL_OUTPUT_CHARACTERS),
        fullOutputPath: null,
        durationMilliseconds: Math.round(performance.now() - pending.startedAt),
      });
    }
  }

  #handleApiRetry(message: Extract<SDKMessage, { subtype: 'api_retry' }>): void {
    const failure = classifyClaudeCodeApiError(
      { status: message.error_status, error: message.error, type: null, message: message.error },
      this.#options.clock,
    );
    if (failure.category === 'rate_limited') {
      this.#options.emit('agent.rate_limited', {
        provider: CLAUDE_CODE_PROVIDER,
        retryAfterMilliseconds: message.retry_delay_ms,
      });
    }
    const status = message.error_status === null ? '' : `HTTP ${message.error_status} `;
    this.#options.emit('agent.retry', {
      attempt: message.attempt,
      delayMilliseconds: message.retry_delay_ms,
      category: failure.category,
      reason: `Claude Code retries its API call after ${status}${message.error}`.trim(),
    });
  }

  #handleResult(message: SDKResultMessage): void {
    this.attemptResult = message;
    this.sessionId = message.session_id;
    for (const [model, modelUsage] of Object.entries(message.modelUsage)) {
      const tokens = {
        inputTokens: modelUsage.inputTokens,
        outputTokens: modelUsage.outputTokens,
        cacheReadTokens: modelUsage.cacheReadInputTokens,
        cacheWriteTokens: modelUsage.cacheCreationInputTokens,
      };
      if (Object.values(tokens).every((value) => value === 0)) continue;
      const priced = priceUsage(model, tokens, this.#options.priceTable);
      // Loki's table first, so budgets use one set of prices; Claude Code's own figure for models
      // the table lacks; unknown only when neither knows.
      const costUsd = priced.isPriceKnown ? priced.costUsd : modelUsage.costUSD;
      const isPriceKnown = priced.isPriceKnown || modelUsage.costUSD > 0;
      this.usage.inputTokens += tokens.inputTokens;
      this.usage.outputTokens += tokens.outputTokens;
      this.usage.cacheReadTokens += tokens.cacheReadTokens;
      this.usage.cacheWriteTokens += tokens.cacheWriteTokens;
      this.usage.costUsd += costUsd;
      this.usage.isCostKnown &&= isPriceKnown;
      this.#options.emit('usage.recorded', {
        provider: CLAUDE_CODE_PROVIDER,
        model,
        ...tokens,
        costUsd,
        isPriceKnown,
      });
    }
  }
}

interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  is_error?: boolean | null;
  content?: unknown;
}

function isToolResultBlock(block: unknown): block is ToolResultBlock {
  return (
    typeof block === 'object' &&
    block !== null &&
    (block as { type?: unknown }).type === 'tool_result' &&
    typeof (block as { tool_use_id?: unknown }).tool_use_id === 'string'
  );
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as unknown[])
    .map((part) => {
      const typed = part as { type?: unknown; text?: unknown };
      return typed.type === 'text' && typeof typed.text === 'string' ? typed.text : `[${String(typed.type)}]`;
    })
    .join('\n');
}

/**
 * A numeric field the CLI writes on the wire that the SDK's types do not declare on every message
 * (e.g. `api_error_status` on an API-error assistant message).
 */
export function numberField(message: object, name: string): number | null {
  const value = (message as Record<string, unknown>)[name];
  return typeof value === 'number' ? value : null;
}
