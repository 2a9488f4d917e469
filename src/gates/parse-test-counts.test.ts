import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTestCounts } from './parse-test-counts.ts';

describe('parseTestCounts: node:test, from a real run', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-parse-test-counts-'));
    writeFileSync(
      join(directory, 'sample.test.mjs'),
      [
        "import { test } from 'node:test';",
        "test('adds', () => {});",
        "test('subtracts', () => {});",
        "test('divides', { skip: 'not yet' }, () => {});",
      ].join('\n'),
    );
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function runNodeTest(reporter: string): string {
    const result = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, 'sample.test.mjs'], {
      cwd: directory,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    return result.stdout;
  }

  it.each(['tap', 'spec'])('reads the %s reporter summary', (reporter) => {
    expect(parseTestCounts(runNodeTest(reporter))).toEqual({
      passed: 2,
      failed: 0,
      skipped: 1,
      framework: 'node:test',
    });
  });

  it('reads a coloured spec summary and counts cancelled tests as failed', () => {
    const output = [
      '\u001b[31m✖ slow (1001ms)\u001b[39m',
      '\u001b[34mℹ tests 6\u001b[39m',
      '\u001b[34mℹ suites 0\u001b[39m',
      '\u001b[34mℹ pass 3\u001b[39m',
      '\u001b[34mℹ fail 1\u001b[39m',
      '\u001b[34mℹ cancelled 1\u001b[39m',
      '\u001b[34mℹ skipped 0\u001b[39m',
      '\u001b[34mℹ todo 1\u001b[39m',
      '\u001b[34mℹ duration_ms 1070.2\u001b[39m',
    ].join('\n');
    expect(parseTestCounts(output)).toEqual({ passed: 3, failed: 2, skipped: 1, framework: 'node:test' });
  });
});

describe('parseTestCounts: other frameworks', () => {
  it('reads Vitest', () => {
    const output = `
 ✓ src/math.test.ts (4 tests | 2 skipped) 3ms
 ❯ src/strings.test.ts (2 tests | 1 failed) 5ms
   × trims both ends 3ms

 Test Files  1 failed | 1 passed (2)
      Tests  3 passed | 1 failed | 2 skipped (6)
   Start at  10:15:02
   Duration  412ms (transform 40ms, setup 0ms, collect 52ms, tests 8ms)
`;
    expect(parseTestCounts(output)).toEqual({ passed: 3, failed: 1, skipped: 2, framework: 'vitest' });
  });

  it('reads coloured Vitest output with todo tests', () => {
    const output =
      '\u001b[2m Test Files \u001b[22m \u001b[1m\u001b[32m1 passed\u001b[39m\u001b[22m\u001b[90m (1)\u001b[39m\n' +
      '\u001b[2m      Tests \u001b[22m \u001b[1m\u001b[32m10 passed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m\u001b[90m1 todo\u001b[39m\u001b[90m (11)\u001b[39m\n';
    expect(parseTestCounts(output)).toEqual({ passed: 10, failed: 0, skipped: 1, framework: 'vitest' });
  });

  it('reads Jest', () => {
    const output = `
FAIL src/cart.test.js
  ● cart › applies discount

    expect(received).toBe(expected) // Object.is equality

PASS src/user.test.js

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 1 skipped, 3 passed, 5 total
Snapshots:   0 total
Time:        1.234 s
Ran all test suites.
`;
    expect(parseTestCounts(output)).toEqual({ passed: 3, failed: 1, skipped: 1, framework: 'jest' });
  });

  it('reads pytest, with errors counted as failed', () => {
    const output = `
============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.2.0, pluggy-1.5.0
rootdir: /work/app
collected 7 items

tests/test_api.py ..F.s.sE                                               [100%]

=========================== short test summary info ============================
FAILED tests/test_api.py::test_delete - assert 404 == 204
ERROR tests/test_api.py::test_upload - fixture 'bucket' not found
=============== 1 failed, 4 passed, 2 skipped, 1 error in 0.12s ================
`;
    expect(parseTestCounts(output)).toEqual({ passed: 4, failed: 2, skipped: 2, framework: 'pytest' });
  });

  it('reads quiet pytest output', () => {
    expect(parseTestCounts('....\n4 passed, 1 warning in 0.03s\n')).toEqual({
      passed: 4,
      failed: 0,
      skipped: 0,
      framework: 'pytest',
    });
  });

  it('reads go test -v, subtests and packages included', () => {
    const output = `
=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestParse
=== RUN   TestParse/empty
=== RUN   TestParse/unicode
--- FAIL: TestParse (0.00s)
    --- PASS: TestParse/empty (0.00s)
    --- FAIL: TestParse/unicode (0.00s)
        parse_test.go:31: got "", want "é"
FAIL
FAIL	example.com/app/parse	0.004s
=== RUN   TestNetwork
--- SKIP: TestNetwork (0.00s)
    net_test.go:12: no network
PASS
ok  	example.com/app/net	0.002s
?   	example.com/app/cmd	[no test files]
FAIL
`;
    expect(parseTestCounts(output)).toEqual({ passed: 2, failed: 2, skipped: 1, framework: 'go' });
  });

  it('recognises go test without -v, which prints no per-test lines', () => {
    expect(parseTestCounts('ok  \texample.com/app\t(cached)\n')).toEqual({
      passed: 0,
      failed: 0,
      skipped: 0,
      framework: 'go',
    });
  });

  it('reads Mocha', () => {
    const output = `

  Array
    #indexOf()
      ✔ returns -1 when the value is not present
      ✔ returns the index
      - finds NaN
      1) handles sparse arrays


  3 passing (12ms)
  2 pending
  1 failing

  1) Array
       #indexOf()
         handles sparse arrays:
     AssertionError [ERR_ASSERTION]: expected 1 to equal 2
`;
    expect(parseTestCounts(output)).toEqual({ passed: 3, failed: 1, skipped: 2, framework: 'mocha' });
  });
});

describe('parseTestCounts: choosing and refusing', () => {
  it('uses the last summary when there are several', () => {
    const output = [
      '      Tests  2 passed | 3 failed (5)',
      'retrying after a fix',
      '      Tests  5 passed (5)',
    ].join('\n');
    expect(parseTestCounts(output)).toEqual({ passed: 5, failed: 0, skipped: 0, framework: 'vitest' });
  });

  it('uses the last summary across frameworks (a backend in pytest, then a frontend in Jest)', () => {
    const output = [
      '==== 10 passed in 1.02s ====',
      'Tests:       2 failed, 7 passed, 9 total',
      'Time:        2.1 s',
    ].join('\n');
    expect(parseTestCounts(output)).toEqual({ passed: 7, failed: 2, skipped: 0, framework: 'jest' });
  });

  it.each([
    ['empty output', ''],
    ['a build log', 'Compiling...\nBuilt in 3.2s\nDone.'],
    ['a summary-like line with no outcomes', '      Tests  no tests (0)'],
  ])('returns null for %s', (_name, output) => {
    expect(parseTestCounts(output)).toBeNull();
  });
});

describe('parseTestCounts: a run where no test ran', () => {
  it('reads pytest\'s "no tests ran" as zero tests, not as no summary', () => {
    expect(
      parseTestCounts('============================ no tests ran in 1.72s =============================\n'),
    ).toEqual({
      passed: 0,
      failed: 0,
      skipped: 0,
      framework: 'pytest',
    });
  });
});
