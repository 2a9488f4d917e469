import type { Clock } from '../../clock/index.ts';
import type { PriceTable } from '../price-table.ts';
import { priceUsage } from '../price-usage.ts';
import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import { classifyClaudeCodeApiError } from './classify-claude-code-failure.ts';
import { emptyUsageTotals } from '../usage-totals.ts';
import type { CliRuntimeUsage } from './cli-runtime-result.ts';
import {
  type ClaudeCodeApiError,
  type ClaudeCodeApiRetryLine,
  type ClaudeCodeAssistantLine,
  type ClaudeCodeResultLine,
  type ClaudeCodeToolResult,
  parseClaudeCodeLine,
} from './parse-claude-code-line.ts';

export interface ClaudeCodeStreamMapperOptions {
  emit: EmitRuntimeEvent;
  clock: Clock;
  priceTable?: PriceTable;
}

export const CLAUDE_CODE_PROVIDER = 'claude-code';

/**
 * Turns Claude Code's stream-json lines into Loki events, and keeps what the runtime needs to
 * decide how an attempt ended. One mapper spans every attempt of a run (a resumed session reports
 * the same session again), so tools, steps and usage add up across attempts.
 */
export class ClaudeCodeStreamMapper {
  sessionId: string | null = null;
  steps = 0;
  readonly usage: CliRuntimeUsage = emptyUsageTotals();
  /** The `result` line of the current attempt, once it arrived. */
  attemptResult: ClaudeCodeResultLine | null = null;
  /** The API failure the current attempt reported, if any. */
  attemptApiError: ClaudeCodeApiError | null = null;

  readonly #options: ClaudeCodeStreamMapperOptions;
  readonly #messageIds = new Set<string>();
  readonly #pendingTools = new Map<string, { name: string; startedAt: number }>();

  constructor(options: ClaudeCodeStreamMapperOptions) {
    this.#options = options;
  }

  beginAttempt(): void {
    this.attemptResult = null;
    this.attemptApiError = null;
  }

  handleLine(text: string): void {
    if (text.trim() === '') return;
    const line = parseClaudeCodeLine(text);
    const emit = this.#options.emit;
    switch (line.kind) {
      case 'init':
        // The agent session was announced (agent.started) by the RARV cycle that runs this CLI.
        this.sessionId = line.sessionId;
        return;
      case 'assistant':
        this.#handleAssistant(line);
        return;
      case 'tool_results':
        for (const result of line.results) this.#handleToolResult(result);
        return;
      case 'api_retry':
        this.#handleApiRetry(line);
        return;
      case 'rate_limit':
        // Subscription limits: only a rejected request means the agent is actually waiting.
        if (line.status === 'rejected') {
          emit('agent.rate_limited', {
            provider: CLAUDE_CODE_PROVIDER,
            retryAfterMilliseconds:
              line.resetsAtSeconds === null
                ? null
                : Math.max(0, line.resetsAtSeconds * 1000 - this.#options.clock.now()),
          });
        }
        return;
      case 'result':
        this.#handleResult(line);
        return;
      case 'ignored':
        return;
      case 'unparseable':
        // Logged, not fatal: one odd line must not cost a whole agent run.
        emit('agent.error', {
          code: 'CLAUDE_CODE_UNPARSEABLE_OUTPUT',
          category: 'internal',
          message: `ignored a line of Claude Code output (${line.reason}): ${line.line}`,
        });
        return;
    }
  }

  #handleAssistant(line: ClaudeCodeAssistantLine): void {
    if (line.apiError !== null) {
      this.attemptApiError = line.apiError;
      return;
    }
    // Claude Code writes one line per content block: several lines share one API message.
    if (!this.#messageIds.has(line.messageId)) {
      this.#messageIds.add(line.messageId);
      this.steps += 1;
      this.usage.modelCalls = this.steps;
    }
    for (const block of line.blocks) {
      if (block.type === 'text') {
        if (block.text.trim() !== '') this.#options.emit('agent.text', { text: block.text });
        continue;
      }
      this.#pendingTools.set(block.id, { name: block.name, startedAt: performance.now() });
      this.#options.emit('agent.tool_called', {
        toolCallId: block.id,
        toolName: block.name,
        input: block.input,
      });
    }
  }

  #handleToolResult(result: ClaudeCodeToolResult): void {
    const pending = this.#pendingTools.get(result.toolUseId);
    this.#pendingTools.delete(result.toolUseId);
    this.#options.emit('agent.tool_result', {
      toolCallId: result.toolUseId,
      toolName: pending?.name ?? 'unknown',
      isError: result.isError,
      output: result.output,
      fullOutputPath: null,
      durationMilliseconds: pending === undefined ? 0 : Math.round(performance.now() - pending.startedAt),
    });
  }

  #handleApiRetry(line: ClaudeCodeApiRetryLine): void {
    const failure = classifyClaudeCodeApiError(
      { status: line.errorStatus, error: line.error, type: null, message: line.error ?? '' },
      this.#options.clock,
    );
    if (failure.category === 'rate_limited') {
      this.#options.emit('agent.rate_limited', {
        provider: CLAUDE_CODE_PROVIDER,
        retryAfterMilliseconds: line.delayMilliseconds,
      });
    }
    const status = line.errorStatus === null ? '' : `HTTP ${line.errorStatus} `;
    this.#options.emit('agent.retry', {
      attempt: line.attempt,
      delayMilliseconds: line.delayMilliseconds,
      category: failure.category,
      reason: `Claude Code retries its API call after ${status}${line.error ?? 'an error'}`.trim(),
    });
  }

  #handleResult(line: ClaudeCodeResultLine): void {
    this.attemptResult = line;
    if (line.sessionId !== null) this.sessionId = line.sessionId;
    for (const modelUsage of line.modelUsage) {
      const tokens = {
        inputTokens: modelUsage.inputTokens,
        outputTokens: modelUsage.outputTokens,
        cacheReadTokens: modelUsage.cacheReadTokens,
        cacheWriteTokens: modelUsage.cacheWriteTokens,
      };
      if (Object.values(tokens).every((value) => value === 0)) continue;
      const priced = priceUsage(modelUsage.model, tokens, this.#options.priceTable);
      // Loki's table first, so budgets use one set of prices; Claude Code's own figure for models
      // the table lacks; unknown only when neither knows.
      const costUsd = priced.isPriceKnown ? priced.costUsd : modelUsage.costUsd;
      const isPriceKnown = priced.isPriceKnown || modelUsage.costUsd > 0;
      this.usage.inputTokens += tokens.inputTokens;
      this.usage.outputTokens += tokens.outputTokens;
      this.usage.cacheReadTokens += tokens.cacheReadTokens;
      this.usage.cacheWriteTokens += tokens.cacheWriteTokens;
      this.usage.costUsd += costUsd;
      this.usage.isCostKnown &&= isPriceKnown;
      this.#options.emit('usage.recorded', {
        provider: CLAUDE_CODE_PROVIDER,
        model: modelUsage.model,
        ...tokens,
        costUsd,
        isPriceKnown,
      });
    }
  }
}
