import { z } from 'zod';
import { MODEL_TIERS, type ModelTier } from '../providers/index.ts';
import { ALL_TOOLS } from '../tools/index.ts';

/**
 * The seed's six swarms, plus the blind reviewers and the orchestrator, which sit outside them:
 * reviewers judge the swarms' work and the orchestrator plans it.
 */
export const AGENT_SWARMS = [
  'engineering',
  'operations',
  'business',
  'data',
  'product',
  'growth',
  'review',
  'orchestration',
] as const;
export type AgentSwarm = (typeof AGENT_SWARMS)[number];

/** Every id of a swarm starts with its prefix, so a task's type tells a reader its swarm at a glance. */
export const SWARM_ID_PREFIXES: Readonly<Record<AgentSwarm, string>> = {
  engineering: 'eng-',
  operations: 'ops-',
  business: 'biz-',
  data: 'data-',
  product: 'prod-',
  growth: 'growth-',
  review: 'review-',
  orchestration: 'orchestrator',
};

/** One kind of agent: who it is, which model tier it needs by default and what it may touch. */
export interface AgentType {
  /** Kebab-case, e.g. `eng-backend`; the `type` of the tasks it runs. */
  readonly id: string;
  readonly swarm: AgentSwarm;
  /** A job title, e.g. "Backend engineer". */
  readonly title: string;
  /** What it is for, in one line. */
  readonly purpose: string;
  /** The tier used when a task says nothing about its complexity (see tierForComplexity). */
  readonly defaultTier: ModelTier;
  /** Names of the tools it is offered, in the order of ALL_TOOLS. */
  readonly tools: readonly string[];
}

const KNOWN_TOOL_NAMES: readonly string[] = ALL_TOOLS.map((tool) => tool.name);

export const agentTypeSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z]+(-[a-z]+)*$/, 'must be kebab-case, e.g. eng-backend'),
    swarm: z.enum(AGENT_SWARMS),
    title: z.string().trim().min(3).max(40),
    purpose: z
      .string()
      .trim()
      .min(20)
      .max(140)
      .regex(/^[^\n]*$/, 'must be one line'),
    defaultTier: z.enum(MODEL_TIERS),
    tools: z
      .array(
        z.string().refine((name) => KNOWN_TOOL_NAMES.includes(name), {
          message: `unknown tool; known tools: ${KNOWN_TOOL_NAMES.join(', ')}`,
        }),
      )
      .min(1),
  })
  .superRefine((agentType, issues) => {
    if (!agentType.id.startsWith(SWARM_ID_PREFIXES[agentType.swarm])) {
      issues.addIssue({
        code: 'custom',
        path: ['id'],
        message: `an agent of the ${agentType.swarm} swarm needs an id starting with "${SWARM_ID_PREFIXES[agentType.swarm]}"`,
      });
    }
    if (new Set(agentType.tools).size !== agentType.tools.length) {
      issues.addIssue({ code: 'custom', path: ['tools'], message: 'lists a tool twice' });
    }
    // Without task_complete an agent can never finish: the harness would only see it time out.
    if (!agentType.tools.includes('task_complete')) {
      issues.addIssue({ code: 'custom', path: ['tools'], message: 'must include task_complete' });
    }
  });
