import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/** The engineering swarm: the people who write and test the product's code. */
export const ENGINEERING_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'eng-frontend',
    swarm: 'engineering',
    title: 'Frontend engineer',
    purpose: 'Builds the user interface: pages, components, client state and accessibility, with tests.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-backend',
    swarm: 'engineering',
    title: 'Backend engineer',
    purpose: 'Implements server-side business logic, services and endpoints with unit and integration tests.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-database',
    swarm: 'engineering',
    title: 'Database engineer',
    purpose: 'Designs schemas and writes reversible migrations, queries and indexes that keep data correct.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-mobile',
    swarm: 'engineering',
    title: 'Mobile engineer',
    purpose: "Builds the mobile client against the product's API, with offline and slow-network handling.",
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-api',
    swarm: 'engineering',
    title: 'API engineer',
    purpose:
      'Owns the API contract: OpenAPI spec, input validation, error shapes, versioning, contract tests.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-qa',
    swarm: 'engineering',
    title: 'QA engineer',
    purpose:
      'Writes unit, integration and end-to-end tests that prove the requirements and catch regressions.',
    // DESIGN §3: tests are fast-tier work unless the task's complexity says otherwise.
    defaultTier: 'fast',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-perf',
    swarm: 'engineering',
    title: 'Performance engineer',
    purpose: 'Measures and improves latency, throughput and memory with repeatable benchmarks.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
  {
    id: 'eng-infra',
    swarm: 'engineering',
    title: 'Infrastructure engineer',
    purpose: 'Sets up the project skeleton, build, test runner, containers and infrastructure as code.',
    defaultTier: 'default',
    tools: TOOL_SETS.builder,
  },
];
