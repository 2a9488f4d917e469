import { type CallBudget, createCallBudget } from '../budget/index.ts';
import { CLI_TURN_MAX_OUTPUT_TOKENS, priceUsage } from '../providers/index.ts';
import type { TaskAgentRequest } from './agent-source.ts';

/** The run's cap as an agent CLI's task sees it: each turn charged, one reserved ahead. */
export function cliBudgetOf(request: TaskAgentRequest): { budget?: CallBudget } {
  if (request.governor === null) return {};
  return {
    budget: createCallBudget(request.governor, {
      taskId: request.task.id,
      agentType: request.task.type,
      maxOutputTokens: CLI_TURN_MAX_OUTPUT_TOKENS,
      priceUsage,
    }),
  };
}
