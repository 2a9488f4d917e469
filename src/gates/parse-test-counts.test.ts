import { describe, expect, it } from 'vitest';
import { parseTestCounts } from './parse-test-counts.ts';

// The tails of real runs (Node 24's node:test, Vitest 4, pytest 9) of one file with a passing,
// a failing, a skipped and (where the runner has it) a todo test; Jest's and go's as documented.
const NODE_SPEC = `✔ REQ-001 adds numbers (0.8ms)
✖ REQ-002 fails (1.2ms)
﹣ skipped one (0.17ms) # SKIP
✔ todo one (0.16ms) # TODO
ℹ tests 4
ℹ suites 0
ℹ pass 1
ℹ fail 1
ℹ cancelled 0
ℹ skipped 1
ℹ todo 1
ℹ duration_ms 284.628017
`;
const NODE_TAP = `1..4
# tests 4
# suites 0
# pass 1
# fail 1
# cancelled 0
# skipped 1
# todo 1
# duration_ms 563.325493
`;
const VITEST = `
 Test Files  1 failed (1)
      Tests  1 failed | 1 passed | 1 skipped | 1 todo (4)
   Start at  19:14:28
   Duration  797ms (transform 103ms, setup 0ms, import 177ms, tests 14ms, environment 0ms)
`;
const JEST = `Test Suites: 1 failed, 1 total
Tests:       1 failed, 1 skipped, 1 todo, 1 passed, 4 total
Snapshots:   0 total
Time:        0.512 s
`;
const PYTEST = `FAILED test_a.py::test_req_002_fails - assert 1 == 2
==================== 1 failed, 1 passed, 1 skipped in 2.70s ====================
`;
const GO_VERBOSE = `=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestFails
    a_test.go:9: 1 != 2
--- FAIL: TestFails (0.00s)
=== RUN   TestLater
    a_test.go:12: not yet
--- SKIP: TestLater (0.00s)
FAIL
FAIL	example.com/calc	0.002s
`;

describe('parseTestCounts', () => {
  it.each([
    ['node:test (spec)', NODE_SPEC, 'node:test', 1],
    ['node:test (TAP)', NODE_TAP, 'node:test', 1],
    ['Vitest', VITEST, 'vitest', 1],
    ['Jest', JEST, 'jest', 1],
    ['pytest', PYTEST, 'pytest', 0],
    ['go test -v', GO_VERBOSE, 'go test', 0],
  ])('reads %s', (_name, output, runner, todo) => {
    expect(parseTestCounts(output)).toEqual({ runners: [runner], passed: 1, failed: 1, skipped: 1, todo });
  });

  it('reads the quiet pytest summary and a run where no test ran', () => {
    expect(parseTestCounts('3 passed, 2 deselected in 0.05s\n')).toMatchObject({ passed: 3, failed: 0 });
    expect(
      parseTestCounts('============================ no tests ran in 1.72s =============================\n'),
    ).toEqual({
      runners: ['pytest'],
      passed: 0,
      failed: 0,
      skipped: 0,
      todo: 0,
    });
  });

  it('sums the summaries of every runner a test command ran, colours and all', () => {
    const coloured =
      '\u001b[2m      Tests \u001b[22m \u001b[1m\u001b[32m7 passed\u001b[39m\u001b[22m\u001b[90m (7)\u001b[39m\n';
    expect(parseTestCounts(`${coloured}${NODE_TAP}`)).toEqual({
      runners: ['node:test', 'vitest'],
      passed: 8,
      failed: 1,
      skipped: 1,
      todo: 1,
    });
  });

  it('finds nothing in output that holds no runner summary', () => {
    expect(parseTestCounts('all good\nok\n')).toBeNull();
    expect(parseTestCounts('ok  \texample.com/calc\t0.002s\n')).toBeNull();
  });
});
