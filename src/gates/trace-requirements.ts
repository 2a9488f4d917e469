import type { GateVerdict } from './gate.ts';
import type { TestOutcome, TestResult } from './parse-test-results.ts';

export interface TraceableRequirement {
  id: string;
  title: string;
  description: string;
  kind: string;
}

/** A task with the requirements it cites and the checkpoint on main that carries it (null: not merged). */
export interface TracedTask {
  id: string;
  requirementIds: readonly string[];
  commit: string | null;
}

export interface TracedGate {
  gate: string;
  verdict: GateVerdict;
  reason: string;
}

export interface RequirementTrace {
  id: string;
  title: string;
  kind: string;
  proven: boolean;
  /** Every test whose name names the requirement, whatever its outcome. */
  tests: { name: string; outcome: TestOutcome; file: string | null }[];
  /** The gates that cover the requirement by GATE_COVERAGE, with their verdicts. */
  gates: TracedGate[];
  tasks: string[];
  commits: string[];
  /** What proves it, or why nothing does. */
  why: string;
}

export interface Traceability {
  proven: number;
  total: number;
  /** Whole percent, rounded down: 99.6 % is not 100 %. */
  percent: number;
  requirements: RequirementTrace[];
}

/**
 * Which gate proves which kind of requirement, by words in its title or description: a gate covers a
 * requirement only when what the gate measures is what the requirement asks (an accessibility
 * requirement by the accessibility gate, a latency one by the performance gate). The words are
 * deliberately narrow: a requirement they miss needs a test that names it.
 */
export const GATE_COVERAGE: readonly { gate: string; words: RegExp }[] = [
  { gate: 'accessibility', words: /\b(?:accessib\w*|a11y|wcag|screen readers?)\b/i },
  { gate: 'performance', words: /\b(?:latency|response times?|p9[59]|throughput|under \d+ ?ms)\b/i },
  { gate: 'load', words: /\b(?:load|concurrent (?:users|requests)|traffic)\b/i },
  {
    gate: 'chaos',
    words: /\b(?:resilien\w*|survives? (?:a )?(?:restart|crash|failure)s?|fault[- ]toleran\w*)\b/i,
  },
  { gate: 'coverage', words: /\b(?:test|code|line) coverage\b/i },
  { gate: 'security', words: /\b(?:no (?:leaked |hard-?coded )?secrets?|credentials? (?:are )?never)\b/i },
  { gate: 'audit', words: /\b(?:known vulnerabilit\w*|dependency audit|CVEs?)\b/i },
  { gate: 'legal', words: /\b(?:licen[cs]es?|third-party notices?)\b/i },
];

/**
 * Whether a test's name names a requirement: the ID's letters and digits in order, ignoring case and
 * separators (`REQ-003 …`, `test_req_003_…`, `TestREQ003…`), and not followed by another digit
 * (`REQ-0031` is not `REQ-003`). The same reading as the sealed acceptance tests' check.
 */
export function namesRequirement(testName: string, requirementId: string): boolean {
  const parts = requirementId.match(/[A-Za-z]+|\d+/g) ?? [];
  if (parts.length === 0) return false;
  // The ID's parts are letters and digits only, so they need no escaping inside the pattern.
  return new RegExp(`${parts.join('[^A-Za-z0-9]*')}(?![0-9])`, 'i').test(testName);
}

/**
 * PRD traceability: a requirement is proven only when at least one PASSING test names its ID, or a
 * gate that covers it (GATE_COVERAGE) passed. Merged tasks alone prove nothing: they only say what
 * was built, and where (their commits are listed for the reader).
 */
export function traceRequirements(input: {
  requirements: readonly TraceableRequirement[];
  tests: readonly TestResult[];
  gates: readonly TracedGate[];
  tasks: readonly TracedTask[];
}): Traceability {
  const requirements = input.requirements.map((requirement) => traceOne(requirement, input));
  const proven = requirements.filter((requirement) => requirement.proven).length;
  const total = requirements.length;
  return {
    proven,
    total,
    percent: total === 0 ? 0 : Math.floor((proven * 100) / total),
    requirements,
  };
}

function traceOne(
  requirement: TraceableRequirement,
  input: Parameters<typeof traceRequirements>[0],
): RequirementTrace {
  const tests = input.tests
    .filter((test) => namesRequirement(test.name, requirement.id))
    .map(({ name, outcome, file }) => ({ name, outcome, file }));
  const text = `${requirement.title} ${requirement.description}`;
  const covering = new Set(GATE_COVERAGE.filter((rule) => rule.words.test(text)).map((rule) => rule.gate));
  const gates = input.gates.filter((gate) => covering.has(gate.gate));
  const tasks = input.tasks.filter((task) => task.requirementIds.includes(requirement.id));
  const commits = [...new Set(tasks.flatMap((task) => (task.commit === null ? [] : [task.commit])))];
  const passingTests = tests.filter((test) => test.outcome === 'passed');
  const passingGates = gates.filter((gate) => gate.verdict === 'pass');
  const proven = passingTests.length > 0 || passingGates.length > 0;
  return {
    id: requirement.id,
    title: requirement.title,
    kind: requirement.kind,
    proven,
    tests,
    gates,
    tasks: tasks.map((task) => task.id),
    commits,
    why: proven
      ? describeProof(passingTests.length, passingGates)
      : describeGap(requirement.id, tests, gates, covering),
  };
}

function describeProof(passingTests: number, passingGates: readonly TracedGate[]): string {
  const parts = [
    ...(passingTests === 0 ? [] : [`${passingTests} passing test(s) name it`]),
    ...(passingGates.length === 0
      ? []
      : [`the ${passingGates.map((gate) => gate.gate).join(', ')} gate passed`]),
  ];
  return parts.join('; ');
}

function describeGap(
  id: string,
  tests: RequirementTrace['tests'],
  gates: readonly TracedGate[],
  covering: ReadonlySet<string>,
): string {
  const parts: string[] = [];
  if (tests.length === 0) parts.push(`no test names ${id}`);
  else {
    const outcomes = tests.map((test) => test.outcome);
    parts.push(
      `the ${tests.length} test(s) naming it did not pass (${outcomes.filter((outcome) => outcome === 'failed').length} failed, ${outcomes.filter((outcome) => outcome === 'skipped').length} skipped)`,
    );
  }
  if (covering.size === 0) parts.push('no gate covers it');
  for (const gate of covering) {
    const found = gates.find((each) => each.gate === gate);
    parts.push(
      found === undefined
        ? `the ${gate} gate that would cover it did not run`
        : `the ${gate} gate is ${found.verdict}: ${found.reason}`,
    );
  }
  return parts.join('; ');
}
