import { parseTestCounts, type TestFramework } from './parse-test-counts.ts';

export type TestOutcome = 'passed' | 'failed' | 'skipped';

/** One test as its runner reported it. */
export interface TestResult {
  /** The test's full name: its suites and its own name, joined by ` > ` (the file is not part of it). */
  name: string;
  outcome: TestOutcome;
  /** The test file when the runner prints it on the same line (Vitest, pytest); else null. */
  file: string | null;
  framework: TestFramework;
}

const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const NAME_SEPARATOR = ' > ';

/**
 * The tests a run reported one by one, for requirement traceability (a requirement is proven by a
 * passing test that names it). Which runner printed the output is decided by its summary
 * (parseTestCounts); then that runner's per-test lines are read:
 * - node:test: the spec reporter (the default) and the TAP reporter; suites are not tests.
 * - Vitest: the verbose reporter's `✓ file > suite > name` lines (the default reporter leaves out
 *   the suite names, and passing files entirely, so it gives no names to trace).
 * - Jest: the verbose tree under `PASS`/`FAIL file` (describe lines, then `✓`/`✕`/`○` tests).
 * - pytest: `-v` lines `file::Class::test PASSED`.
 * - go test: `-v` lines `--- PASS: TestName/subtest`.
 * Empty when the runner printed no per-test lines; Mocha is counted but not read per test.
 * Hand-written because no maintained library reads these human reporters' output (each runner's
 * machine-readable reporter needs a flag the project's own test command does not pass).
 */
export function parseTestResults(output: string): TestResult[] {
  const counts = parseTestCounts(output);
  if (counts === null) return [];
  const lines = output.replace(ANSI_ESCAPE, '').split(/\r?\n|\r/);
  switch (counts.framework) {
    case 'node:test':
      return lines.some((line) => /^\s*# Subtest: /.test(line)) ? readNodeTap(lines) : readNodeSpec(lines);
    case 'vitest':
      return readVitest(lines);
    case 'jest':
      return readJest(lines);
    case 'pytest':
      return readPytest(lines);
    case 'go':
      return readGo(lines);
    case 'mocha':
      return [];
  }
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Spec: `▶ suite` opens a suite, `✔ name (1ms)` / `✖` / `﹣ … # SKIP` close a test or the suite. */
function readNodeSpec(lines: readonly string[]): TestResult[] {
  const results: TestResult[] = [];
  const suites: { indent: number; name: string }[] = [];
  for (const line of lines) {
    // The list of failing tests after the summary repeats tests already read.
    if (/^✖ failing tests:/.test(line.trim())) break;
    const indent = indentOf(line);
    const suite = /^▶ (.+)$/.exec(line.trim());
    while (suites.length > 0 && (suites.at(-1)?.indent ?? 0) > indent) suites.pop();
    if (suite !== null) {
      suites.push({ indent, name: suite[1] ?? '' });
      continue;
    }
    const test = /^([✔✖﹣]) (.+?)(?: \([\d.]+m?s\))?( # (?:SKIP|TODO)\b.*)?$/.exec(line.trim());
    if (test === null) continue;
    const name = test[2] ?? '';
    const open = suites.at(-1);
    if (open !== undefined && open.indent === indent && open.name === name) {
      suites.pop();
      continue;
    }
    const outcome: TestOutcome =
      test[3] !== undefined || test[1] === '﹣' ? 'skipped' : test[1] === '✔' ? 'passed' : 'failed';
    results.push(result([...suites.map((each) => each.name), name], outcome, null, 'node:test'));
  }
  return results;
}

/** TAP: `# Subtest: name` opens a test at a depth of four spaces a level; `ok`/`not ok` closes it. */
function readNodeTap(lines: readonly string[]): TestResult[] {
  const results: TestResult[] = [];
  const open: { name: string; hasChildren: boolean }[] = [];
  for (const line of lines) {
    const depth = Math.floor(indentOf(line) / 4);
    const subtest = /^# Subtest: (.+)$/.exec(line.trim());
    if (subtest !== null) {
      open.length = depth;
      open[depth] = { name: subtest[1] ?? '', hasChildren: false };
      const parent = open[depth - 1];
      if (parent !== undefined) parent.hasChildren = true;
      continue;
    }
    const verdict = /^(not ok|ok) \d+ - (.+?)(?: # (SKIP|TODO)\b.*)?$/.exec(line.trim());
    if (verdict === null) continue;
    const own = open[depth];
    if (own?.hasChildren === true) continue;
    const names = open.slice(0, depth).map((each) => each.name);
    const outcome: TestOutcome =
      verdict[3] !== undefined ? 'skipped' : verdict[1] === 'ok' ? 'passed' : 'failed';
    results.push(result([...names, verdict[2] ?? ''], outcome, null, 'node:test'));
  }
  return results;
}

/** Vitest verbose: `✓ test/a.test.ts > suite > name 2ms`, `×` failed, `↓` skipped, `□` todo. */
function readVitest(lines: readonly string[]): TestResult[] {
  const results: TestResult[] = [];
  for (const line of lines) {
    const match = /^\s*([✓√×✗↓□]) (.+?)(?: \d+(?:\.\d+)?m?s)?(?: \[skipped\])?$/.exec(line);
    if (match === null || !match[2]?.includes(NAME_SEPARATOR)) continue;
    const [file = '', ...names] = match[2].split(NAME_SEPARATOR);
    const mark = match[1] ?? '';
    const outcome: TestOutcome = '✓√'.includes(mark) ? 'passed' : '×✗'.includes(mark) ? 'failed' : 'skipped';
    results.push(result(names, outcome, file, 'vitest'));
  }
  return results;
}

/** Jest verbose: describe names and tests indented two spaces a level under `PASS file`. */
function readJest(lines: readonly string[]): TestResult[] {
  const results: TestResult[] = [];
  let file: string | null = null;
  let describes: { indent: number; name: string }[] = [];
  for (const line of lines) {
    const header = /^\s*(?:PASS|FAIL) (\S+)/.exec(line);
    if (header !== null) {
      file = header[1] ?? null;
      describes = [];
      continue;
    }
    if (file === null || line.trim() === '') continue;
    if (/^\s*(?:Tests|Test Suites|Snapshots|Time):/.test(line) || line.trim().startsWith('●')) {
      file = null;
      continue;
    }
    const indent = indentOf(line);
    describes = describes.filter((each) => each.indent < indent);
    const test = /^([✓√✕×○✎]) (?:(?:skipped|todo) )?(.+?)(?: \(\d+(?:\.\d+)? ?m?s\))?$/.exec(line.trim());
    if (test === null) {
      describes.push({ indent, name: line.trim() });
      continue;
    }
    const mark = test[1] ?? '';
    const outcome: TestOutcome = '✓√'.includes(mark) ? 'passed' : '✕×'.includes(mark) ? 'failed' : 'skipped';
    results.push(result([...describes.map((each) => each.name), test[2] ?? ''], outcome, file, 'jest'));
  }
  return results;
}

const PYTEST_OUTCOMES: Record<string, TestOutcome> = {
  PASSED: 'passed',
  XPASS: 'passed',
  FAILED: 'failed',
  ERROR: 'failed',
  SKIPPED: 'skipped',
  XFAIL: 'skipped',
};

/** pytest -v: `tests/test_todo.py::TestApi::test_req_001_creates PASSED [ 50%]`. */
function readPytest(lines: readonly string[]): TestResult[] {
  const results: TestResult[] = [];
  for (const line of lines) {
    const match = /^(\S+?)::(\S.*?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b/.exec(line.trim());
    if (match === null) continue;
    const outcome = PYTEST_OUTCOMES[match[3] ?? ''] ?? 'failed';
    results.push(result((match[2] ?? '').split('::'), outcome, match[1] ?? null, 'pytest'));
  }
  return results;
}

/** go test -v: `--- PASS: TestCreate/REQ-001_rejects_blank (0.00s)`; subtests are named with `/`. */
function readGo(lines: readonly string[]): TestResult[] {
  const results: TestResult[] = [];
  for (const line of lines) {
    const match = /^\s*--- (PASS|FAIL|SKIP): (\S+)/.exec(line);
    if (match === null) continue;
    const outcome: TestOutcome = match[1] === 'PASS' ? 'passed' : match[1] === 'FAIL' ? 'failed' : 'skipped';
    results.push(result((match[2] ?? '').split('/'), outcome, null, 'go'));
  }
  return results;
}

function result(
  names: readonly string[],
  outcome: TestOutcome,
  file: string | null,
  framework: TestFramework,
): TestResult {
  return { name: names.join(NAME_SEPARATOR), outcome, file, framework };
}
