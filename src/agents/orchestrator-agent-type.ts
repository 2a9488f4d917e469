import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/**
 * The planner behind the orchestrator. The model only proposes (requirements, architecture, task
 * DAG); orchestrator code validates and decides, so this agent reads and never writes.
 */
export const ORCHESTRATOR_AGENT_TYPE: AgentType = {
  id: 'orchestrator',
  swarm: 'orchestration',
  title: 'Orchestrator',
  purpose: 'Plans the run: turns requirements into an architecture and a task graph for the swarms.',
  defaultTier: 'planning',
  tools: TOOL_SETS.readOnly,
};
