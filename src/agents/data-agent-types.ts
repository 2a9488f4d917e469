import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/** The data swarm: pipelines, models and the numbers that say whether the product works. */
export const DATA_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'data-ml',
    swarm: 'data',
    title: 'Machine learning engineer',
    purpose: 'Builds, evaluates and serves models with reproducible training, held-out data and baselines.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'data-eng',
    swarm: 'data',
    title: 'Data engineer',
    purpose: 'Builds pipelines that ingest, validate and transform data with idempotent, re-runnable jobs.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'data-analytics',
    swarm: 'data',
    title: 'Data analyst',
    purpose: 'Defines metrics and event tracking, and writes the queries and reports that answer questions.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
];
