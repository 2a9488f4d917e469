import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTestResults } from './parse-test-results.ts';

describe('parseTestResults: node:test, from a real run', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-parse-test-results-'));
    writeFileSync(
      join(directory, 'sample.test.mjs'),
      [
        "import { describe, it, test } from 'node:test';",
        "describe('REQ-001 create', () => {",
        "  it('answers 201', () => {});",
        "  it('fails here', () => { throw new Error('no'); });",
        "  describe('nested', () => { it('deep one', () => {}); });",
        '});',
        "test('top level REQ-002', () => {});",
        "test('later', { skip: true }, () => {});",
      ].join('\n'),
    );
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it.each(['tap', 'spec'])(
    'reads every test of the %s reporter with its suites, and no suite',
    (reporter) => {
      const run = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, 'sample.test.mjs'], {
        cwd: directory,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      const results = parseTestResults(run.stdout);
      expect(results.map(({ name, outcome }) => ({ name, outcome }))).toEqual([
        { name: 'REQ-001 create > answers 201', outcome: 'passed' },
        { name: 'REQ-001 create > fails here', outcome: 'failed' },
        { name: 'REQ-001 create > nested > deep one', outcome: 'passed' },
        { name: 'top level REQ-002', outcome: 'passed' },
        { name: 'later', outcome: 'skipped' },
      ]);
      expect(new Set(results.map((result) => result.framework))).toEqual(new Set(['node:test']));
    },
  );
});

describe('parseTestResults: other runners, from their recorded output', () => {
  it('reads Vitest verbose lines, colours and all, keeping the file apart from the name', () => {
    const output = [
      ' \u001b[32m✓\u001b[39m test/a.test.ts\u001b[2m > \u001b[22mREQ-001 create\u001b[2m > \u001b[22manswers 201\u001b[32m 2\u001b[2mms\u001b[22m\u001b[39m',
      ' \u001b[31m×\u001b[39m test/a.test.ts\u001b[2m > \u001b[22mREQ-001 create\u001b[2m > \u001b[22mfails here\u001b[32m 4\u001b[2mms\u001b[22m\u001b[39m',
      '\u001b[31m   → x\u001b[39m',
      ' ↓ test/a.test.ts > skipped',
      ' □ test/a.test.ts > later',
      '',
      ' FAIL  test/a.test.ts > REQ-001 create > fails here',
      '',
      ' Test Files  1 failed (1)',
      '      Tests  1 failed | 1 passed | 1 skipped | 1 todo (4)',
    ].join('\n');
    expect(parseTestResults(output)).toEqual([
      {
        name: 'REQ-001 create > answers 201',
        outcome: 'passed',
        file: 'test/a.test.ts',
        framework: 'vitest',
      },
      { name: 'REQ-001 create > fails here', outcome: 'failed', file: 'test/a.test.ts', framework: 'vitest' },
      { name: 'skipped', outcome: 'skipped', file: 'test/a.test.ts', framework: 'vitest' },
      { name: 'later', outcome: 'skipped', file: 'test/a.test.ts', framework: 'vitest' },
    ]);
  });

  it('reads the Jest verbose tree', () => {
    const output = [
      'PASS src/sum.test.js',
      '  sum',
      '    REQ-004 edge cases',
      '      ✓ adds zero (3 ms)',
      '      ✕ adds NaN (1 ms)',
      '    ○ skipped subtracts',
      '  ✓ top level (1 ms)',
      '',
      'Test Suites: 1 failed, 1 total',
      'Tests:       1 failed, 1 skipped, 2 passed, 4 total',
    ].join('\n');
    expect(parseTestResults(output).map(({ name, outcome }) => `${outcome} ${name}`)).toEqual([
      'passed sum > REQ-004 edge cases > adds zero',
      'failed sum > REQ-004 edge cases > adds NaN',
      'skipped sum > subtracts',
      'passed top level',
    ]);
  });

  it('reads pytest -v lines and not the short summary that repeats a failure', () => {
    const output = [
      'test_todo.py::test_req_001_creates PASSED                                [ 20%]',
      'test_todo.py::TestApi::test_req_002_lists FAILED                         [ 40%]',
      'test_todo.py::test_skipped SKIPPED (x)                                   [ 60%]',
      'test_todo.py::test_param_REQ_003[1] PASSED                               [ 80%]',
      '=========================== short test summary info ============================',
      'FAILED test_todo.py::TestApi::test_req_002_lists - assert False',
      '==================== 1 failed, 2 passed, 1 skipped in 3.57s ====================',
    ].join('\n');
    expect(parseTestResults(output).map(({ name, outcome, file }) => `${outcome} ${file}: ${name}`)).toEqual([
      'passed test_todo.py: test_req_001_creates',
      'failed test_todo.py: TestApi > test_req_002_lists',
      'skipped test_todo.py: test_skipped',
      'passed test_todo.py: test_param_REQ_003[1]',
    ]);
  });

  it('reads go test -v lines, subtests by their path', () => {
    const output = [
      '=== RUN   TestCreate',
      '=== RUN   TestCreate/REQ-001_rejects_blank',
      '    --- PASS: TestCreate/REQ-001_rejects_blank (0.00s)',
      '--- PASS: TestCreate (0.00s)',
      '--- FAIL: TestDelete (0.01s)',
      '--- SKIP: TestLater (0.00s)',
      'FAIL',
      'FAIL\texample.com/todo\t0.012s',
    ].join('\n');
    expect(parseTestResults(output).map(({ name, outcome }) => `${outcome} ${name}`)).toEqual([
      'passed TestCreate > REQ-001_rejects_blank',
      'passed TestCreate',
      'failed TestDelete',
      'skipped TestLater',
    ]);
  });

  it('gives nothing for output of no known runner, or a Vitest run without the verbose reporter', () => {
    expect(parseTestResults('all good\n')).toEqual([]);
    expect(
      parseTestResults([' ✓ test/a.test.ts (6 tests) 12ms', '      Tests  6 passed (6)'].join('\n')),
    ).toEqual([]);
  });
});
