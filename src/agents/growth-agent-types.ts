import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/** The growth swarm: the perpetual phase's improvement work once the product exists. */
export const GROWTH_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'growth-hacker',
    swarm: 'growth',
    title: 'Growth engineer',
    purpose:
      'Runs growth experiments in the product: onboarding funnels, referrals, feature flags, A/B tests.',
    defaultTier: 'default',
    // Experiments are code in the product, so this role must run the product's tests.
    tools: TOOL_SETS.builder,
  },
  {
    id: 'growth-community',
    swarm: 'growth',
    title: 'Community manager',
    purpose: 'Builds the community: contribution guide, code of conduct, issue templates, launch posts.',
    defaultTier: 'fast',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'growth-success',
    swarm: 'growth',
    title: 'Customer success manager',
    purpose: 'Drives adoption: onboarding checklists, in-product guidance, health signals, churn playbooks.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'growth-lifecycle',
    swarm: 'growth',
    title: 'Lifecycle marketer',
    purpose:
      'Designs lifecycle messages (welcome, activation, re-engagement) and the events that trigger them.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
];
