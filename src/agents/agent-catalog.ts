import type { AgentType } from './agent-type.ts';
import { BUSINESS_AGENT_TYPES } from './business-agent-types.ts';
import { DATA_AGENT_TYPES } from './data-agent-types.ts';
import { ENGINEERING_AGENT_TYPES } from './engineering-agent-types.ts';
import { GROWTH_AGENT_TYPES } from './growth-agent-types.ts';
import { OPERATIONS_AGENT_TYPES } from './operations-agent-types.ts';
import { ORCHESTRATOR_AGENT_TYPE } from './orchestrator-agent-type.ts';
import { parseAgentCatalog } from './parse-agent-catalog.ts';
import { PRODUCT_AGENT_TYPES } from './product-agent-types.ts';
import { REVIEW_AGENT_TYPES } from './review-agent-types.ts';

/**
 * Every agent type Loki can run: the seed's 37 types (34 in six swarms plus the three blind
 * reviewers) and the orchestrator, 38 in all. Validated when this module loads. Each type's role
 * prompt is `prompts/<id>.md`, read with readRolePrompt.
 */
export const AGENT_CATALOG: readonly AgentType[] = parseAgentCatalog([
  ...ENGINEERING_AGENT_TYPES,
  ...OPERATIONS_AGENT_TYPES,
  ...BUSINESS_AGENT_TYPES,
  ...DATA_AGENT_TYPES,
  ...PRODUCT_AGENT_TYPES,
  ...GROWTH_AGENT_TYPES,
  ...REVIEW_AGENT_TYPES,
  ORCHESTRATOR_AGENT_TYPE,
]);
