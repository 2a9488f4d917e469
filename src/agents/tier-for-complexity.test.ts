import { describe, expect, it } from 'vitest';
import { AGENT_CATALOG, findAgentType, TASK_COMPLEXITIES, tierForComplexity } from './index.ts';

describe('tierForComplexity', () => {
  it('maps trivial and simple to fast, moderate and complex to default, critical to planning', () => {
    const backend = findAgentType('eng-backend');
    expect(TASK_COMPLEXITIES.map((complexity) => tierForComplexity(complexity, backend))).toEqual([
      'fast',
      'fast',
      'default',
      'default',
      'planning',
    ]);
  });

  it('keeps planning-tier agent types on the planning tier however small the task', () => {
    for (const id of ['ops-security', 'review-security', 'orchestrator', 'ops-compliance']) {
      for (const complexity of TASK_COMPLEXITIES) {
        expect(tierForComplexity(complexity, id), `${id} ${complexity}`).toBe('planning');
      }
    }
  });

  it('lets complexity override a fast default in both directions', () => {
    expect(tierForComplexity('complex', 'prod-techwriter')).toBe('default');
    expect(tierForComplexity('critical', 'eng-qa')).toBe('planning');
    expect(tierForComplexity('trivial', 'eng-qa')).toBe('fast');
  });

  it("falls back to the agent type's default tier when the task has no complexity", () => {
    for (const agentType of AGENT_CATALOG) {
      expect(tierForComplexity(undefined, agentType), agentType.id).toBe(agentType.defaultTier);
    }
  });

  it('refuses an unknown agent type', () => {
    expect(() => tierForComplexity('simple', 'eng-backnd')).toThrow(
      expect.objectContaining({ code: 'AGENT_TYPE_UNKNOWN' }),
    );
  });
});
