import { describe, expect, it } from 'vitest';
import type { TestResult } from './parse-test-results.ts';
import { namesRequirement, traceRequirements } from './trace-requirements.ts';

const requirement = (id: string, title: string, description = title) => ({
  id,
  title,
  description,
  kind: 'functional',
});
const test = (name: string, outcome: TestResult['outcome'] = 'passed'): TestResult => ({
  name,
  outcome,
  file: null,
  framework: 'node:test',
});

describe('namesRequirement', () => {
  it.each([
    ['REQ-003 marks a todo completed', true],
    ['todo API > REQ-003 > answers 404', true],
    ['test_req_003_marks_completed', true],
    ['TestREQ003Completes', true],
    ['REQ-0031 is another requirement', false],
    ['REQ-03 is a different requirement', false],
    ['REQ-1003 neither', false],
    ['marks a todo completed', false],
  ])('%s → %s', (name, expected) => {
    expect(namesRequirement(name, 'REQ-003')).toBe(expected);
  });
});

describe('traceRequirements', () => {
  const tasks = [
    { id: 'todo-store', requirementIds: ['REQ-001', 'REQ-002'], commit: 'aaa111' },
    { id: 'rest-api', requirementIds: ['REQ-001'], commit: 'bbb222' },
    { id: 'web-page', requirementIds: ['REQ-003'], commit: null },
  ];

  it('proves a requirement by a passing test that names it, listing its tasks and their commits', () => {
    const trace = traceRequirements({
      requirements: [requirement('REQ-001', 'Create a todo')],
      tests: [test('todo API > REQ-001 answers 201'), test('REQ-001 rejects a blank title', 'skipped')],
      gates: [],
      tasks,
    });
    expect(trace).toMatchObject({ proven: 1, total: 1, percent: 100 });
    expect(trace.requirements[0]).toMatchObject({
      proven: true,
      tasks: ['todo-store', 'rest-api'],
      commits: ['aaa111', 'bbb222'],
      why: '1 passing test(s) name it',
    });
    expect(trace.requirements[0]?.tests).toHaveLength(2);
  });

  it('proves a requirement by the gate that covers it, and only by that gate', () => {
    const trace = traceRequirements({
      requirements: [
        requirement('REQ-004', 'Accessible page', 'The page meets WCAG 2.1 AA'),
        requirement('REQ-005', 'Quick answers', 'Answers each request with a p99 latency under 200 ms'),
      ],
      tests: [],
      gates: [
        { gate: 'accessibility', verdict: 'pass', reason: 'no violation on 2 pages' },
        { gate: 'unit-tests', verdict: 'pass', reason: '12 passed' },
        { gate: 'performance', verdict: 'not-proven', reason: 'the app has no start command' },
      ],
      tasks,
    });
    expect(trace).toMatchObject({ proven: 1, total: 2, percent: 50 });
    expect(trace.requirements[0]).toMatchObject({ proven: true, why: 'the accessibility gate passed' });
    expect(trace.requirements[0]?.gates.map((gate) => gate.gate)).toEqual(['accessibility']);
    expect(trace.requirements[1]).toMatchObject({
      proven: false,
      why: 'no test names REQ-005; the performance gate is not-proven: the app has no start command',
    });
  });

  it('leaves unproven a requirement whose tests failed, whose tasks merged, or that nothing names', () => {
    const trace = traceRequirements({
      requirements: [
        requirement('REQ-002', 'List todos'),
        requirement('REQ-003', 'Web page'),
        requirement('REQ-006', 'Runs offline'),
      ],
      tests: [test('REQ-002 lists newest first', 'failed'), test('REQ-003 escapes titles', 'skipped')],
      gates: [{ gate: 'unit-tests', verdict: 'pass', reason: '12 passed' }],
      tasks,
    });
    expect(trace).toMatchObject({ proven: 0, total: 3, percent: 0 });
    expect(trace.requirements.map((each) => each.why)).toEqual([
      'the 1 test(s) naming it did not pass (1 failed, 0 skipped); no gate covers it',
      'the 1 test(s) naming it did not pass (0 failed, 1 skipped); no gate covers it',
      'no test names REQ-006; no gate covers it',
    ]);
    expect(trace.requirements[0]?.commits).toEqual(['aaa111']);
    expect(trace.requirements[1]?.commits).toEqual([]);
  });

  it('rounds the percentage down and says 0 % for a PRD with no requirement', () => {
    const requirements = ['REQ-001', 'REQ-002', 'REQ-003'].map((id) => requirement(id, 'Something'));
    const trace = traceRequirements({
      requirements,
      tests: [test('REQ-001 a'), test('REQ-002 b')],
      gates: [],
      tasks: [],
    });
    expect(trace.percent).toBe(66);
    expect(traceRequirements({ requirements: [], tests: [], gates: [], tasks: [] }).percent).toBe(0);
  });
});
