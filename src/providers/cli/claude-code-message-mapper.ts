import type {
  SDKAssistantMessage,
  SDKMessage,
  SDKPartialAssistantMessage,
  SDKResultMessage,
} from '@anthropic-ai/claude-agent-sdk';
import type { Clock } from '../../clock/index.ts';
import { emptyUsageTotals } from '../pricing/index.ts';
import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import { type ClaudeCodeApiError, classifyClaudeCodeApiError } from './classify-claude-code-failure.ts';
import type { CliRuntimeUsage } from './cli-runtime-result.ts';
import type { CompletedTurn } from './cli-turn-meter.ts';
import { truncateText } from './describe-text.ts';

export interface ClaudeCodeMessageMapperOptions {
  emit: EmitRuntimeEvent;
  clock: Clock;
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
  /** The turn each conversation (the main one, each subagent's) is streaming, by parent tool call. */
  readonly #openTurns = new Map<string, CompletedTurn>();

  constructor(options: ClaudeCodeMessageMapperOptions) {
    this.#options = options;
  }

  beginAttempt(): void {
    this.attemptResult = null;
    this.attemptApiError = null;
  }

  /** Maps one message; returns the model turn it ended, if any, for the caller to charge. */
  handle(message: SDKMessage): CompletedTurn | null {
    const emit = this.#options.emit;
    switch (message.type) {
      case 'system':
        // The agent session was announced (agent.started) by the RARV cycle that runs this CLI.
        if (message.subtype === 'init') this.sessionId = message.session_id;
        if (message.subtype === 'api_retry') this.#handleApiRetry(message);
        return null;
      case 'assistant':
        this.#handleAssistant(message);
        return null;
      case 'user':
        this.#handleToolResults(message.message.content);
        return null;
      case 'rate_limit_event': {
        // Subscription limits: only a rejected request means the agent is actually waiting.
        const info = message.rate_limit_info;
        if (info.status !== 'rejected') return null;
        emit('agent.rate_limited', {
          provider: CLAUDE_CODE_PROVIDER,
          retryAfterMilliseconds:
            info.resetsAt === undefined
              ? null
              : Math.max(0, info.resetsAt * 1000 - this.#options.clock.now()),
        });
        return null;
      }
      case 'result':
        this.#handleResult(message);
        return null;
      case 'stream_event':
        return this.#handleStreamEvent(message);
      default:
        // Hooks, progress, status and the like carry nothing Loki records.
        return null;
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
    // Usage is not read here: each turn was charged as it ended (stream events), and the result's
    // totals of a resumed session repeat the turns of earlier attempts.
    this.attemptResult = message;
    this.sessionId = message.session_id;
  }

  /**
   * The raw API stream of every turn (subagents' included: they cost the same money): a turn's
   * input usage comes with message_start, its final output count with message_delta, and
   * message_stop ends it.
   */
  #handleStreamEvent(message: SDKPartialAssistantMessage): CompletedTurn | null {
    const key = message.parent_tool_use_id ?? '';
    const event = message.event;
    if (event.type === 'message_start') {
      const usage = event.message.usage;
      this.#openTurns.set(key, {
        modelId: event.message.model,
        tokens: {
          inputTokens: usage.input_tokens,
          outputTokens: usage.output_tokens,
          cacheReadTokens: usage.cache_read_input_tokens ?? 0,
          cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
        },
      });
      return null;
    }
    const turn = this.#openTurns.get(key);
    if (turn === undefined) return null;
    if (event.type === 'message_delta') {
      // Counts in message_delta are cumulative; the fields it leaves out (or sends as null) keep
      // message_start's values.
      const usage = event.usage;
      const tokens = turn.tokens;
      tokens.outputTokens = usage.output_tokens;
      tokens.inputTokens = usage.input_tokens ?? tokens.inputTokens;
      tokens.cacheReadTokens = usage.cache_read_input_tokens ?? tokens.cacheReadTokens;
      tokens.cacheWriteTokens = usage.cache_creation_input_tokens ?? tokens.cacheWriteTokens;
      return null;
    }
    if (event.type !== 'message_stop') return null;
    this.#openTurns.delete(key);
    return turn;
  }

  /** Turns the attempt started but never finished (the stream was cut or the CLI stopped): billed all the same. */
  takeOpenTurns(): CompletedTurn[] {
    const turns = [...this.#openTurns.values()];
    this.#openTurns.clear();
    return turns;
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
