import { describe, expect, it } from 'vitest';
import type { GateResult } from '../gates/index.ts';
import { agentTypeForGate } from './gate-fix-routing.ts';

function failed(gate: string, outputExcerpt = '', files: string[] = []): GateResult {
  return {
    gate,
    verdict: 'fail',
    reason: 'failed',
    evidence: { command: null, exitCode: 1, durationMilliseconds: 0, counts: null, outputExcerpt, files },
  };
}

describe('agentTypeForGate', () => {
  it('sends each gate to the specialist of what it measures', () => {
    expect(agentTypeForGate(failed('unit-tests'))).toBe('eng-qa');
    expect(agentTypeForGate(failed('coverage'))).toBe('eng-qa');
    expect(agentTypeForGate(failed('security'))).toBe('ops-security');
    expect(agentTypeForGate(failed('audit'))).toBe('ops-security');
    expect(agentTypeForGate(failed('legal'))).toBe('ops-compliance');
    expect(agentTypeForGate(failed('performance'))).toBe('eng-perf');
    expect(agentTypeForGate(failed('accessibility'))).toBe('eng-frontend');
    expect(agentTypeForGate(failed('a-gate-added-later'))).toBe('eng-backend');
  });

  it('sends lint and type errors to the side of the code most of the named files are on', () => {
    const frontend = 'src/components/TodoList.tsx(4,7): error TS2322\nsrc/styles/app.css: 2 problems';
    const backend = 'src/server.ts(12,3): error TS2345\nsrc/store.ts(3,1): error TS1005';
    expect(agentTypeForGate(failed('types', frontend))).toBe('eng-frontend');
    expect(agentTypeForGate(failed('lint', backend))).toBe('eng-backend');
    expect(agentTypeForGate(failed('lint', 'no file named at all'))).toBe('eng-backend');
  });
});
