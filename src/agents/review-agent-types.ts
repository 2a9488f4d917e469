import type { AgentType } from './agent-type.ts';
import { TOOL_SETS } from './tool-sets.ts';

/**
 * The three blind reviewers (DESIGN §2, step 6). Read-only by design: a reviewer that could edit or
 * run things would stop being a judge of the change and become a second author of it. The harness
 * has already run the verification and gates; its results are in the reviewer's task.
 */
export const REVIEW_AGENT_TYPES: readonly AgentType[] = [
  {
    id: 'review-code',
    swarm: 'review',
    title: 'Code reviewer',
    purpose: 'Blind review of a change for correctness, design, readability, tests and maintainability.',
    defaultTier: 'default',
    tools: TOOL_SETS.readOnly,
  },
  {
    id: 'review-business',
    swarm: 'review',
    title: 'Business logic reviewer',
    purpose: 'Blind review that a change does what its requirements and acceptance criteria say.',
    defaultTier: 'default',
    tools: TOOL_SETS.readOnly,
  },
  {
    id: 'review-security',
    swarm: 'review',
    title: 'Security reviewer',
    purpose:
      'Blind review of a change for vulnerabilities, leaked secrets, unsafe input and weak access control.',
    defaultTier: 'planning',
    tools: TOOL_SETS.readOnly,
  },
];
