import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/** The operations swarm: shipping the product and keeping it running, safe, affordable and lawful. */
export const OPERATIONS_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'ops-devops',
    swarm: 'operations',
    title: 'DevOps engineer',
    purpose:
      'Builds CI pipelines, build scripts and deployment automation so every change ships the same way.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'ops-sre',
    swarm: 'operations',
    title: 'Site reliability engineer',
    purpose: 'Makes the running product reliable: health checks, timeouts, retries, SLOs, graceful shutdown.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'ops-security',
    swarm: 'operations',
    title: 'Security engineer',
    purpose: 'Finds and fixes vulnerabilities: authentication, input handling, secrets, dependencies.',
    // A missed vulnerability costs far more than a planning-tier call (DESIGN §3: security → planning).
    defaultTier: 'planning',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'ops-monitor',
    swarm: 'operations',
    title: 'Monitoring engineer',
    purpose: 'Adds structured logs, metrics and alerts that tell operators what the product is doing.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'ops-incident',
    swarm: 'operations',
    title: 'Incident responder',
    purpose: 'Diagnoses a failure from evidence, ships the smallest safe fix and writes the postmortem.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'ops-release',
    swarm: 'operations',
    title: 'Release manager',
    purpose: 'Prepares releases: version bump, changelog, release notes, migration order and rollback plan.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'ops-cost',
    swarm: 'operations',
    title: 'Cost engineer',
    purpose: 'Estimates and reduces hosting and model costs: right-sizing, caching, budgets, cost reports.',
    defaultTier: 'default',
    // Cost work changes configuration and writes reports; running anything is left to the builders.
    tools: TOOL_SETS.documents,
  },
  {
    id: 'ops-compliance',
    swarm: 'operations',
    title: 'Compliance engineer',
    purpose: 'Maps the product to its obligations (privacy, licences, accessibility) and records evidence.',
    // A wrong compliance call is expensive and such tasks are few: worth the planning tier.
    defaultTier: 'planning',
    tools: TOOL_SETS.documents,
  },
];
