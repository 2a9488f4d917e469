import { findAgentType } from '../agents/index.ts';

/**
 * The phases that run planned tasks, in order (DESIGN.md §2). Bootstrap, Discovery and Architecture
 * come before them and produce the plan; they run no queue tasks.
 */
export const DELIVERY_PHASES = [
  'infrastructure',
  'development',
  'qa',
  'deployment',
  'business',
  'growth',
] as const;
export type DeliveryPhase = (typeof DELIVERY_PHASES)[number];

/** Every phase of `loki run`, in order. Growth runs only with `--perpetual`. */
export const RUN_PHASES = ['bootstrap', 'discovery', 'architecture', ...DELIVERY_PHASES] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

const PHASE_BY_AGENT_TYPE: Readonly<Record<string, DeliveryPhase>> = {
  'eng-infra': 'infrastructure',
  'eng-qa': 'qa',
  'eng-perf': 'qa',
  'ops-devops': 'deployment',
  'ops-release': 'deployment',
  'ops-sre': 'deployment',
  'ops-monitor': 'deployment',
};

/**
 * Where a task runs when the plan does not say: infrastructure for eng-infra, QA for testers,
 * deployment for the release side of operations, business for the business swarm, growth for the
 * growth swarm, development for everything else.
 */
export function defaultPhaseForAgentType(agentTypeId: string): DeliveryPhase {
  const explicit = PHASE_BY_AGENT_TYPE[agentTypeId];
  if (explicit !== undefined) return explicit;
  const swarm = findAgentType(agentTypeId).swarm;
  if (swarm === 'business') return 'business';
  if (swarm === 'growth') return 'growth';
  return 'development';
}

export function phaseIndex(phase: RunPhase): number {
  return RUN_PHASES.indexOf(phase);
}
