import type { ModelTier } from '../providers/index.ts';
import type { AgentType } from './agent-type.ts';
import { findAgentType } from './find-agent-type.ts';

/** How hard a task is, as the planner estimates it (trivial … critical). */
export const TASK_COMPLEXITIES = ['trivial', 'simple', 'moderate', 'complex', 'critical'] as const;
export type TaskComplexity = (typeof TASK_COMPLEXITIES)[number];

const TIER_BY_COMPLEXITY: Readonly<Record<TaskComplexity, ModelTier>> = {
  trivial: 'fast',
  simple: 'fast',
  moderate: 'default',
  complex: 'default',
  critical: 'planning',
};

/**
 * The model tier for a task: its complexity decides (trivial/simple → fast, moderate/complex →
 * default, critical → planning), except that a planning-tier agent type (security, the
 * orchestrator) always gets the planning tier: its mistakes are the expensive kind however small
 * the task looks. A task without a complexity (e.g. added by hand) gets the agent type's default.
 */
export function tierForComplexity(
  complexity: TaskComplexity | undefined,
  agentType: AgentType | string,
): ModelTier {
  const { defaultTier } = typeof agentType === 'string' ? findAgentType(agentType) : agentType;
  if (defaultTier === 'planning') return 'planning';
  return complexity === undefined ? defaultTier : TIER_BY_COMPLEXITY[complexity];
}
