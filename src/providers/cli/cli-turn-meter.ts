import { ExitCode, isLokiError, LokiError } from '../../errors/index.ts';
import { highestPriceRates } from '../pricing/index.ts';
import type { PriceTable } from '../pricing/index.ts';
import { priceUsage, type TokenUsage } from '../pricing/index.ts';
import type { UsageTotals } from '../pricing/index.ts';
import type { EmitRuntimeEvent } from './bind-event-emitter.ts';

/** Money set aside for one model turn: settled with what it cost, or released when no turn used it. */
export interface CliBudgetHold {
  settle(costUsd: number, isPriceKnown: boolean): Promise<void>;
  release(): Promise<void>;
}

/**
 * The run's spending cap as an agent CLI sees it (the budget module's `createCallBudget` fits it;
 * declared here so that providers do not depend on the budget module, which prices through them).
 */
export interface CliBudget {
  /** Reserves the worst case of one turn; throws BUDGET_EXHAUSTED when it would cross the cap. */
  reserve(call: { modelId: string; promptTokens: number }): Promise<CliBudgetHold>;
  /** Charges a turn that ran without a reservation, never refused: the money is spent already. */
  charge(call: { costUsd: number; isPriceKnown: boolean }): Promise<void>;
  standing(): Promise<{ capUsd: number | undefined; spentUsd: number; remainingUsd: number | undefined }>;
}

/** One model turn as the CLI's stream reported it. */
export interface CompletedTurn {
  modelId: string;
  tokens: TokenUsage;
}

export interface CliTurnMeterOptions {
  provider: 'claude-code' | 'codex';
  /** For messages: "Claude Code", "Codex". */
  displayName: string;
  emit: EmitRuntimeEvent;
  /** The run's totals; every turn is added to them. */
  usage: UsageTotals;
  budget?: CliBudget | undefined;
  priceTable?: PriceTable | undefined;
  /** The model a turn is reserved for before the CLI said which one it uses. */
  modelId: string;
  /** What the CLI adds to a session's first prompt (its own system prompt and tool definitions). */
  basePromptTokens: number;
}

/**
 * Tokens a turn's prompt may grow by over the last one: the last reply and the tool results it
 * asked for. CLIs cut long tool output to about this size; a larger result is the overshoot the
 * reservation allows.
 */
const TURN_GROWTH_TOKENS = 16_000;

/** The output bound of one turn under a budget: what Loki's own tool loop sends as well. */
export const CLI_TURN_MAX_OUTPUT_TOKENS = 8192;

/**
 * Prices each model turn of an agent CLI as it ends and charges it to the run's budget, and keeps
 * one turn's worst case reserved ahead of the next turn. When that reservation is refused,
 * `stopError` is set and `onStop` is called: the caller interrupts the CLI. A CLI cannot be held
 * between turns from outside, so the turn already in flight when the cap is reached still runs:
 * the overshoot is at most that one turn.
 */
export class CliTurnMeter {
  /** Set once a reservation was refused: the session must stop. */
  stopError: LokiError | null = null;
  onStop: (() => void) | null = null;

  readonly #options: CliTurnMeterOptions;
  #modelId: string;
  #nextPromptTokens: number;
  #hold: CliBudgetHold | null = null;
  #reserving: Promise<void> = Promise.resolve();

  constructor(options: CliTurnMeterOptions) {
    this.#options = options;
    this.#modelId = options.modelId;
    this.#nextPromptTokens = options.basePromptTokens;
  }

  /** Before a session (or a resumed attempt) starts: its prompt joins the first turn's worst case. */
  async beginSession(promptCharacters: number): Promise<void> {
    // About three characters a token, to stay on the safe side.
    this.#nextPromptTokens = Math.max(
      this.#nextPromptTokens,
      this.#options.basePromptTokens + Math.ceil(promptCharacters / 3),
    );
    this.#reserveNext();
    await this.#reserving;
  }

  /**
   * A turn ended (or was cut off) with this usage: it is recorded, charged against the hold that
   * was waiting for it, and the next turn's worst case is reserved.
   */
  async turnEnded(turn: CompletedTurn): Promise<void> {
    await this.#reserving;
    const { modelId, tokens } = turn;
    this.#modelId = modelId;
    const priced = this.#price(modelId, tokens);
    const usage = this.#options.usage;
    usage.inputTokens += tokens.inputTokens;
    usage.outputTokens += tokens.outputTokens;
    usage.cacheReadTokens += tokens.cacheReadTokens;
    usage.cacheWriteTokens += tokens.cacheWriteTokens;
    usage.costUsd += priced.costUsd;
    usage.isCostKnown &&= priced.isPriceKnown;
    this.#options.emit('usage.recorded', {
      provider: this.#options.provider,
      model: modelId,
      ...tokens,
      ...priced,
    });
    const hold = this.#hold;
    this.#hold = null;
    if (hold !== null) await hold.settle(priced.costUsd, priced.isPriceKnown);
    else await this.#options.budget?.charge(priced);
    const promptTokens = tokens.inputTokens + tokens.cacheReadTokens + tokens.cacheWriteTokens;
    this.#nextPromptTokens = promptTokens + tokens.outputTokens + TURN_GROWTH_TOKENS;
    this.#reserveNext();
    await this.#reserving;
  }

  /** The session ended: a reservation no turn used is given back. */
  async endSession(): Promise<void> {
    await this.#reserving;
    const hold = this.#hold;
    this.#hold = null;
    await hold?.release();
  }

  /**
   * The error a stopped session ends with: the budget stop, with what was spent once the last turn
   * was charged, and the overshoot the CLI may have made.
   */
  async stopErrorWithSpend(): Promise<LokiError | null> {
    const refusal = this.stopError;
    const budget = this.#options.budget;
    if (refusal === null || budget === undefined) return refusal;
    const standing = await budget.standing();
    const cap = standing.capUsd === undefined ? 'no cap' : `$${standing.capUsd.toFixed(2)}`;
    const estimate = refusal.context.estimatedCostUsd;
    const nextTurn = typeof estimate === 'number' ? `, estimated at up to $${estimate.toFixed(2)},` : '';
    return new LokiError(
      `budget reached: ${this.#options.displayName} was stopped, spent $${standing.spentUsd.toFixed(4)} of ` +
        `${cap}; the CLI's last turn may overshoot by one turn. Its next turn${nextTurn} could not start ` +
        'within the cap. Raise --budget (or LOKI_BUDGET_USD) and run `loki resume` to continue.',
      {
        code: refusal.code,
        category: refusal.category,
        exitCode: ExitCode.budgetStop,
        isRetryable: false,
        context: { ...refusal.context, spentUsd: standing.spentUsd },
        cause: refusal,
      },
    );
  }

  /** The CLI stopped itself at its own spending limit (set from what was left of the budget). */
  stopAtCliLimit(): void {
    if (this.stopError !== null) return;
    this.stopError = new LokiError(
      `${this.#options.displayName} stopped at its own spending limit, set to what was left of the budget`,
      { code: 'BUDGET_EXHAUSTED', category: 'user', exitCode: ExitCode.budgetStop, isRetryable: false },
    );
    this.onStop?.();
  }

  #reserveNext(): void {
    const budget = this.#options.budget;
    if (budget === undefined || this.#hold !== null || this.stopError !== null) return;
    this.#reserving = budget.reserve({ modelId: this.#modelId, promptTokens: this.#nextPromptTokens }).then(
      (hold) => {
        this.#hold = hold;
      },
      (error: unknown) => {
        if (!isLokiError(error) || error.code !== 'BUDGET_EXHAUSTED') throw error;
        this.stopError = error;
        this.onStop?.();
      },
    );
  }

  /** Loki's price table; a model missing from it at the dearest known rates, so the cap still holds. */
  #price(modelId: string, tokens: TokenUsage): { costUsd: number; isPriceKnown: boolean } {
    const priced = priceUsage(modelId, tokens, this.#options.priceTable);
    if (priced.isPriceKnown) return priced;
    const rates = highestPriceRates(this.#options.priceTable);
    const promptTokens = tokens.inputTokens + tokens.cacheReadTokens + tokens.cacheWriteTokens;
    const costUsd =
      (promptTokens * rates.inputUsdPerMillionTokens +
        tokens.outputTokens * rates.outputUsdPerMillionTokens) /
      1_000_000;
    return { costUsd, isPriceKnown: false };
  }
}
