import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/** The product swarm: what to build, how it looks, and how people learn to use it. */
export const PRODUCT_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'prod-pm',
    swarm: 'product',
    title: 'Product manager',
    purpose: 'Turns the PRD into prioritised, testable user stories with acceptance criteria and scope.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'prod-design',
    swarm: 'product',
    title: 'Product designer',
    purpose:
      'Designs flows, wireframes, design tokens and UI copy that engineers can build without guessing.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'prod-techwriter',
    swarm: 'product',
    title: 'Technical writer',
    purpose: 'Writes the README, user guides, API reference and changelog, checked against the real product.',
    defaultTier: 'fast',
    // The one writer with a shell: documented commands and examples must be run to be trusted.
    tools: TOOL_SETS.builder,
  },
];
