export { AGENT_CATALOG } from './agent-catalog.ts';
export { AGENT_SWARMS, type AgentSwarm, type AgentType, SWARM_ID_PREFIXES } from './agent-type.ts';
export { closeAgentTypeIds, findAgentType, isAgentTypeId } from './find-agent-type.ts';
export { parseAgentCatalog } from './parse-agent-catalog.ts';
export { findRolePromptDirectory, readRolePrompt } from './read-role-prompt.ts';
export { TASK_COMPLEXITIES, type TaskComplexity, tierForComplexity } from './tier-for-complexity.ts';
export { TOOL_SETS } from './tool-sets.ts';
