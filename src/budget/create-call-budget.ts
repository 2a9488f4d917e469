import type { BudgetGovernor } from './budget-governor.ts';
import { estimateCallCostUsd, type PriceUsage } from './estimate-call-cost-usd.ts';

export interface CallBudgetHold {
  settle(costUsd: number, isPriceKnown: boolean): Promise<void>;
  release(): Promise<void>;
}

/**
 * Binds the governor to one task's model calls: each call reserves its worst case (the prompt, at
 * about three characters a token to stay on the safe side, plus every output token it may
 * produce) and later settles its real cost.
 */
export function createCallBudget(
  governor: BudgetGovernor,
  options: { taskId: string; agentType: string; maxOutputTokens: number; priceUsage: PriceUsage },
): { reserve(call: { modelId: string; promptCharacters: number }): Promise<CallBudgetHold> } {
  return {
    async reserve({ modelId, promptCharacters }) {
      const estimate = estimateCallCostUsd({
        modelId,
        inputTokens: Math.ceil(promptCharacters / 3),
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
  };
}
