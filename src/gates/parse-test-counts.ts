/** What a test runner said it ran, from its own summary. */
export interface TestCounts {
  /** The runners whose summaries were found (a project's `npm test` may run more than one). */
  runners: TestRunnerName[];
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
}

export type TestRunnerName = 'node:test' | 'vitest' | 'jest' | 'pytest' | 'go test';

/**
 * The counts in a test command's output, summed over every summary found; null when no runner's
 * summary is in it (the output alone then proves nothing about what ran).
 *
 * Read from the runners' own end-of-run summaries, because a gate runs the project's test command
 * as the project wrote it (`npm test`, a Makefile target) and cannot add reporter flags to it. The
 * formats are the runners' documented default output: node:test's spec and TAP reporters
 * (`ℹ tests 4` / `# tests 4` and the lines after), Vitest (`Tests  1 failed | 3 passed (4)`), Jest
 * (`Tests:       1 failed, 3 passed, 4 total`), pytest (`=== 1 failed, 3 passed in 0.12s ===`) and
 * `go test -v` (`--- PASS: TestName`).
 */
export function parseTestCounts(output: string): TestCounts | null {
  const text = stripTerminalCodes(output);
  const counts: TestCounts = { runners: [], passed: 0, failed: 0, skipped: 0, todo: 0 };
  for (const parser of PARSERS) {
    const found = parser.parse(text);
    if (found.length === 0) continue;
    counts.runners.push(parser.runner);
    for (const summary of found) {
      counts.passed += summary.passed;
      counts.failed += summary.failed;
      counts.skipped += summary.skipped;
      counts.todo += summary.todo;
    }
  }
  return counts.runners.length === 0 ? null : counts;
}

type Summary = Omit<TestCounts, 'runners'>;

interface SummaryParser {
  runner: TestRunnerName;
  parse(text: string): Summary[];
}

const PARSERS: readonly SummaryParser[] = [
  { runner: 'node:test', parse: parseNodeTestSummaries },
  { runner: 'vitest', parse: parseVitestSummaries },
  { runner: 'jest', parse: parseJestSummaries },
  { runner: 'pytest', parse: parsePytestSummaries },
  { runner: 'go test', parse: parseGoTestVerbose },
];

/** `ℹ tests 4` (spec) or `# tests 4` (TAP), then `pass`, `fail`, `cancelled`, `skipped`, `todo` lines. */
function parseNodeTestSummaries(text: string): Summary[] {
  const summaries: Summary[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const start = /^(ℹ|#) tests \d+\s*$/.exec(line);
    if (start === null) return;
    const marker = start[1];
    const field = (name: string) => {
      for (const next of lines.slice(index + 1, index + 10)) {
        const match = new RegExp(`^${marker} ${name} (\\d+)\\s*$`).exec(next);
        if (match !== null) return Number(match[1]);
      }
      return 0;
    };
    summaries.push({
      passed: field('pass'),
      failed: field('fail') + field('cancelled'),
      skipped: field('skipped'),
      todo: field('todo'),
    });
  });
  return summaries;
}

/** `      Tests  1 failed | 1 passed | 1 skipped | 1 todo (4)` */
function parseVitestSummaries(text: string): Summary[] {
  return [...text.matchAll(/^\s*Tests\s{2,}(.+?)\s+\(\d+\)\s*$/gm)].map((match) =>
    countWords(match[1] ?? '', /\s*\|\s*/),
  );
}

/** `Tests:       1 failed, 1 skipped, 2 passed, 4 total` */
function parseJestSummaries(text: string): Summary[] {
  return [...text.matchAll(/^Tests:\s+(.+?),\s*\d+ total\s*$/gm)].map((match) =>
    countWords(match[1] ?? '', /\s*,\s*/),
  );
}

/** `==== 1 failed, 1 passed, 1 skipped in 2.70s ====` (or without the rules, with -q); `no tests ran`. */
function parsePytestSummaries(text: string): Summary[] {
  const summaries: Summary[] = [];
  for (const match of text.matchAll(/^=*\s*((?:\d+ \w+(?:, )?)+) in [\d.]+s\b.*$/gm)) {
    summaries.push(countWords(match[1] ?? '', /\s*,\s*/));
  }
  for (const _ of text.matchAll(/^=*\s*no tests ran in [\d.]+s\b.*$/gm)) {
    summaries.push({ passed: 0, failed: 0, skipped: 0, todo: 0 });
  }
  return summaries;
}

/** One `--- PASS|FAIL|SKIP: Name` line per test (subtests indented); without -v go prints none. */
function parseGoTestVerbose(text: string): Summary[] {
  const results = [...text.matchAll(/^\s*--- (PASS|FAIL|SKIP): \S+/gm)].map((match) => match[1]);
  if (results.length === 0) return [];
  return [
    {
      passed: results.filter((result) => result === 'PASS').length,
      failed: results.filter((result) => result === 'FAIL').length,
      skipped: results.filter((result) => result === 'SKIP').length,
      todo: 0,
    },
  ];
}

/** "1 failed, 2 passed" → counts, by the runners' words for each outcome. */
function countWords(list: string, separator: RegExp): Summary {
  const summary: Summary = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  for (const part of list.split(separator)) {
    const match = /^(\d+) (\w+)/.exec(part.trim());
    if (match === null) continue;
    const count = Number(match[1]);
    const word = (match[2] ?? '').toLowerCase();
    if (word === 'passed' || word === 'xpassed') summary.passed += count;
    else if (word === 'failed' || word === 'error' || word === 'errors') summary.failed += count;
    else if (word === 'skipped' || word === 'pending' || word === 'xfailed') summary.skipped += count;
    else if (word === 'todo') summary.todo += count;
  }
  return summary;
}

/** Colours and cursor moves, which runners print even into pipes when FORCE_COLOR is set. */
function stripTerminalCodes(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n?/g, '\n');
}
