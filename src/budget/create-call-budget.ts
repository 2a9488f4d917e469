import type { BudgetGovernor } from './budget-governor.ts';
import { estimateCallCostUsd, type PriceUsage } from './estimate-call-cost-usd.ts';

export interface CallBudgetHold {
  settle(costUsd: number, isPriceKnown: boolean): Promise<void>;
  release(): Promise<void>;
}

/** The prompt of the next call: its text (Loki's tool loop) or its token count (an agent CLI's last turn). */
export type CallPromptSize = { promptCharacters: number } | { promptTokens: number };

/** Where the run's money stands, for messages and for a CLI's own spending limit. */
export interface BudgetStanding {
  capUsd: number | undefined;
  spentUsd: number;
  /** Undefined when the run has no cap. */
  remainingUsd: number | undefined;
}

export interface CallBudget {
  /** Reserves the worst case of the next call; throws BUDGET_EXHAUSTED when it would cross the cap. */
  reserve(call: { modelId: string } & CallPromptSize): Promise<CallBudgetHold>;
  /** Charges spend that happened without a reservation (see `BudgetGovernor.record`). */
  charge(call: { costUsd: number; isPriceKnown: boolean }): Promise<void>;
  standing(): Promise<BudgetStanding>;
}

/**
 * Binds the governor to one task's model calls: each call reserves its worst case (the prompt, at
 * about three characters a token to stay on the safe side, plus every output token it may
 * produce) and later settles its real cost.
 */
export function createCallBudget(
  governor: BudgetGovernor,
  options: { taskId: string; agentType: string; maxOutputTokens: number; priceUsage: PriceUsage },
): CallBudget {
  return {
    async reserve(call) {
      const inputTokens = 'promptTokens' in call ? call.promptTokens : Math.ceil(call.promptCharacters / 3);
      const estimate = estimateCallCostUsd({
        modelId: call.modelId,
        inputTokens,
        maxOutputTokens: options.maxOutputTokens,
        priceUsage: options.priceUsage,
      });
      const reservation = await governor.reserve({
        taskId: options.taskId,
        agentType: options.agentType,
        estimatedCostUsd: estimate.costUsd,
      });
      return {
        settle: (costUsd, isPriceKnown) => governor.settle(reservation, costUsd, { isPriceKnown }),
        release: () => governor.release(reservation),
      };
    },
    charge: ({ costUsd, isPriceKnown }) =>
      governor.record({ taskId: options.taskId, agentType: options.agentType, costUsd, isPriceKnown }),
    async standing() {
      const summary = await governor.summary();
      return { capUsd: summary.capUsd, spentUsd: summary.spentUsd, remainingUsd: summary.remainingUsd };
    },
  };
}
