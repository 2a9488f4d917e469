import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/**
 * The business swarm: the company around the product. Their output is documents and content in the
 * repository, so none of them gets a shell.
 */
export const BUSINESS_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'biz-marketing',
    swarm: 'business',
    title: 'Marketing lead',
    purpose: 'Writes positioning, landing-page copy, launch posts and SEO content grounded in the product.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-sales',
    swarm: 'business',
    title: 'Sales lead',
    purpose: 'Writes the pitch, pricing page, demo script and objection handling for the target buyers.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-finance',
    swarm: 'business',
    title: 'Finance analyst',
    purpose: 'Builds the pricing model, unit economics, projections and budget as checkable tables.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-legal',
    swarm: 'business',
    title: 'Legal counsel',
    purpose: 'Drafts terms, privacy policy and licence notices, and flags legal risks for a human lawyer.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-support',
    swarm: 'business',
    title: 'Support lead',
    purpose: 'Writes the help centre: FAQs, troubleshooting guides and replies that match the real product.',
    defaultTier: 'fast',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-hr',
    swarm: 'business',
    title: 'People operations lead',
    purpose: 'Writes job descriptions, hiring rubrics, onboarding guides and team policies.',
    defaultTier: 'fast',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-investor',
    swarm: 'business',
    title: 'Investor relations lead',
    purpose: 'Writes the pitch deck outline, investor updates and data-room documents from real figures.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
  {
    id: 'biz-partnerships',
    swarm: 'business',
    title: 'Partnerships lead',
    purpose: 'Finds integration and channel partners and writes partner proposals and integration briefs.',
    defaultTier: 'default',
    tools: TOOL_SETS.documents,
  },
];
