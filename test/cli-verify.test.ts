import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GateResult } from '../src/gates/index.ts';
import { startFakeNpmRegistry } from './fakes/fake-npm-registry.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

/**
 * `loki verify` on small projects that were not written for Loki, their tests run by Node's own
 * test runner (nothing to install), through the real sandbox.
 */
function project(
  workspace: TempWorkspace,
  scripts: Record<string, string>,
  files: Record<string, string>,
): void {
  writeFileSync(join(workspace.root, 'package.json'), JSON.stringify({ name: 'fixture', scripts }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(workspace.root, path, '..'), { recursive: true });
    writeFileSync(join(workspace.root, path), content);
  }
}

const testFile = (body: string) =>
  `import test from 'node:test';\nimport assert from 'node:assert';\n${body}\n`;
const PASSING = testFile("test('REQ-001 adds', () => assert.equal(1 + 1, 2));");
const FAILING = testFile(
  "test('REQ-001 adds', () => assert.equal(1 + 1, 2));\ntest('REQ-002 subtracts', () => assert.equal(2 - 1, 3));",
);

async function verify(workspace: TempWorkspace, args: readonly string[] = []) {
  const result = await loki(workspace, ['verify', '--json', ...args]);
  const outcome = parseJsonOutput<{
    headline: string;
    results: GateResult[];
    reportPaths: { json: string; markdown: string };
  }>(result);
  const byGate = Object.fromEntries(outcome.results.map((entry) => [entry.gate, entry]));
  return { exitCode: result.exitCode, outcome, byGate };
}

describe('loki verify', () => {
  it('passes the unit-test gate on passing tests, with the runner’s counts as evidence', async () => {
    using workspace = new TempWorkspace('loki-verify-');
    project(workspace, { test: 'node --test' }, { 'math.test.mjs': PASSING });

    const only = await verify(workspace, ['--gate', 'unit-tests']);
    expect(only.exitCode).toBe(0);
    expect(only.outcome.headline).toBe('VERIFIED');
    expect(only.byGate['unit-tests']).toMatchObject({
      verdict: 'pass',
      evidence: {
        command: 'npm test',
        exitCode: 0,
        counts: { framework: 'node:test', passed: 1, failed: 0 },
      },
    });
    expect(JSON.parse(readFileSync(only.outcome.reportPaths.json, 'utf8'))).toMatchObject({
      headline: 'VERIFIED',
    });
    expect(readFileSync(only.outcome.reportPaths.markdown, 'utf8')).toContain('| unit-tests | pass |');

    // Lint and types have nothing to run on here: not proven, so the whole is not VERIFIED.
    const all = await verify(workspace);
    expect(all.exitCode).toBe(3);
    expect(all.outcome.headline).toBe('VERIFIED WITH GAPS');
    expect(all.byGate.lint).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/no linter configured/),
    });
    expect(all.byGate.types).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/not applicable/),
    });
  });

  it('fails the unit-test gate on a failing test and names the counts', async () => {
    using workspace = new TempWorkspace('loki-verify-');
    project(workspace, { test: 'node --test' }, { 'math.test.mjs': FAILING });
    const { exitCode, outcome, byGate } = await verify(workspace, ['--gate', 'unit-tests']);
    expect(exitCode).toBe(3);
    expect(outcome.headline).toBe('NOT VERIFIED');
    expect(byGate['unit-tests']).toMatchObject({
      verdict: 'fail',
      evidence: { counts: { passed: 1, failed: 1 } },
    });
    expect(byGate['unit-tests']?.reason).toMatch(/^the tests failed \(exit 1\): 1 passed, 1 failed/);
  });

  it('never passes a project with no tests: zero tests executed, no test command, or a missing runner', async () => {
    using zero = new TempWorkspace('loki-verify-');
    project(zero, { test: 'node --test' }, { 'src/index.mjs': 'export const answer = 42;\n' });
    expect((await verify(zero, ['--gate', 'unit-tests'])).byGate['unit-tests']).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/^zero tests executed/),
    });

    using placeholder = new TempWorkspace('loki-verify-');
    project(placeholder, { test: 'echo "Error: no test specified" && exit 1' }, {});
    expect((await verify(placeholder, ['--gate', 'unit-tests'])).byGate['unit-tests']).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/^no test command found/),
      evidence: { command: null },
    });

    using missing = new TempWorkspace('loki-verify-');
    project(missing, { test: 'vitest-not-installed-here run' }, {});
    expect((await verify(missing, ['--gate', 'unit-tests'])).byGate['unit-tests']).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/^tool missing: `npm test` could not start/),
    });

    using silent = new TempWorkspace('loki-verify-');
    project(silent, { test: 'echo all good' }, {});
    expect((await verify(silent, ['--gate', 'unit-tests'])).byGate['unit-tests']).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/printed no summary of a known runner/),
    });
  });

  it('reads coverage from the same test run: the coverage table of its output or a fresh report file', async () => {
    const lib =
      'export function sign(n) {\n  if (n > 0) return 1;\n  if (n < 0) return -1;\n  return 0;\n}\n';
    const partly = testFile(
      "import { sign } from './lib.mjs';\ntest('REQ-001 positive', () => assert.equal(sign(5), 1));",
    );
    const fully = testFile(
      "import { sign } from './lib.mjs';\ntest('REQ-001 signs', () => { assert.equal(sign(5), 1); assert.equal(sign(-5), -1); assert.equal(sign(0), 0); });",
    );
    using covered = new TempWorkspace('loki-verify-');
    project(
      covered,
      { test: 'node --test --experimental-test-coverage' },
      { 'lib.mjs': lib, 'lib.test.mjs': fully },
    );
    expect((await verify(covered, ['--gate', 'unit-tests', 'coverage'])).byGate.coverage).toMatchObject({
      verdict: 'pass',
      reason: '100 % of lines covered (at least 80 %), from the coverage table of the test output',
    });

    using uncovered = new TempWorkspace('loki-verify-');
    project(
      uncovered,
      { test: 'node --test --experimental-test-coverage' },
      { 'lib.mjs': lib, 'lib.test.mjs': partly },
    );
    const low = await verify(uncovered, ['--gate', 'unit-tests', 'coverage']);
    expect(low.outcome.headline).toBe('NOT VERIFIED');
    expect(low.byGate.coverage).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/^60 % of lines covered \(below 80 %\)/),
    });

    // A report file left by an earlier run is not evidence; one the test run writes is.
    using stale = new TempWorkspace('loki-verify-');
    const lcov = 'SF:lib.mjs\nLF:10\nLH:9\nend_of_record\n';
    project(stale, { test: 'node --test' }, { 'lib.test.mjs': PASSING, 'coverage/lcov.info': lcov });
    utimesSync(join(stale.root, 'coverage', 'lcov.info'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    expect((await verify(stale, ['--gate', 'unit-tests', 'coverage'])).byGate.coverage).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/^the test run measured no coverage/),
    });
    writeFileSync(
      join(stale.root, 'write-lcov.mjs'),
      `import { writeFileSync } from 'node:fs';\nwriteFileSync('coverage/lcov.info', ${JSON.stringify(lcov)});\n`,
    );
    project(stale, { test: 'node --test && node write-lcov.mjs' }, {});
    expect((await verify(stale, ['--gate', 'unit-tests', 'coverage'])).byGate.coverage).toMatchObject({
      verdict: 'pass',
      reason: '90 % of lines covered (at least 80 %), from coverage/lcov.info',
    });

    expect((await verify(stale, ['--gate', 'coverage'])).byGate.coverage).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/run it with the unit-tests gate/),
    });
  });

  it('fails the security gate on a secret in the project (masked in the evidence) and lists risky code', async () => {
    // Built at run time: a token written out here would be a secret in Loki's own repository.
    const token = ['ghp', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('_');
    using clean = new TempWorkspace('loki-verify-');
    project(
      clean,
      {},
      {
        'src/view.js': 'export function show(list, html) {\n  list.innerHTML = html;\n}\n',
        'test/view.test.js': "eval('1 + 1');\n",
        'node_modules/dep/index.js': `const token = "${token}";\n`,
      },
    );
    expect((await verify(clean, ['--gate', 'security'])).byGate.security).toMatchObject({
      verdict: 'pass',
      reason:
        'no secrets in 3 files (secretlint, recommended rules); 1 risky code patterns listed for review',
      evidence: { outputExcerpt: 'review: src/view.js:2: innerHTML assignment', files: ['src/view.js'] },
    });

    using leaky = new TempWorkspace('loki-verify-');
    project(leaky, {}, { 'src/config.js': `export const token = "${token}";\n` });
    const security = (await verify(leaky, ['--gate', 'security'])).byGate.security;
    expect(security).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(
        /^1 secrets found: src\/config\.js:1: @secretlint\/secretlint-rule-github: found GitHub Token/,
      ),
    });
    expect(JSON.stringify(security)).not.toContain(token);
  });

  it('audits the dependencies through the sandbox’s registry access: high advisories fail, no answer is not proven', async () => {
    const advisory = {
      id: 1001,
      url: 'https://example.invalid/advisories/1001',
      title: 'Prototype pollution in tiny-greeting',
      severity: 'high',
      vulnerable_versions: '<2.0.0',
      cwe: ['CWE-1321'],
      cvss: { score: 7.5, vectorString: null },
    };
    const audited = async (advisories: Record<string, unknown[]> | null) => {
      await using registry = await startFakeNpmRegistry({
        address: '127.0.0.2',
        packageName: 'tiny-greeting',
        exportedText: 'hello',
        ...(advisories === null ? {} : { advisories }),
      });
      using workspace = new TempWorkspace('loki-verify-audit-');
      const lock = {
        name: 'fixture',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'fixture', dependencies: { 'tiny-greeting': '1.0.0' } },
          'node_modules/tiny-greeting': {
            version: '1.0.0',
            resolved: `${registry.url}tiny-greeting/-/tiny-greeting-1.0.0.tgz`,
          },
        },
      };
      writeFileSync(
        join(workspace.root, 'package.json'),
        JSON.stringify({ name: 'fixture', dependencies: { 'tiny-greeting': '1.0.0' } }),
      );
      writeFileSync(join(workspace.root, 'package-lock.json'), JSON.stringify(lock));
      writeFileSync(
        join(workspace.root, '.npmrc'),
        `registry=${advisories === null ? 'http://127.0.0.4:9/' : registry.url}\n`,
      );
      const result = await loki(workspace, ['verify', '--json', '--gate', 'audit'], {
        env: { LOKI_SANDBOX_ALLOWED_HOSTS: '127.0.0.2' },
      });
      const outcome = parseJsonOutput<{ results: GateResult[] }>(result);
      return { gate: outcome.results[0], stderr: result.stderr };
    };

    expect((await audited({})).gate).toMatchObject({
      verdict: 'pass',
      reason: 'no high or critical advisory in 1 dependencies (0 moderate, 0 low)',
    });
    expect((await audited({ 'tiny-greeting': [advisory] })).gate).toMatchObject({
      verdict: 'fail',
      reason: '0 critical and 1 high advisories in 1 dependencies: tiny-greeting (high)',
    });
    // A registry the policy does not allow gives no answer: not proven, and the refusal is named.
    const offline = await audited(null);
    expect(offline.gate).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/^the registry gave no audit/),
    });

    using noLock = new TempWorkspace('loki-verify-audit-');
    project(noLock, {}, {});
    expect((await verify(noLock, ['--gate', 'audit'])).byGate.audit).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/needs a lockfile/),
    });
  });

  it('passes the legal gate on permissively licensed dependencies and lists the notices they ask for', async () => {
    const installed = (name: string, license: unknown, extra: Record<string, string> = {}) => ({
      [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', license }),
      ...extra,
    });
    using shippable = new TempWorkspace('loki-verify-');
    project(
      shippable,
      {},
      {
        ...installed('left-pad', 'MIT'),
        ...installed('@scope/kit', { type: 'ISC' }),
        ...installed('either', '(GPL-3.0-only OR Apache-2.0)', {
          'node_modules/either/NOTICE': 'Copyright\n',
        }),
      },
    );
    const legal = (await verify(shippable, ['--gate', 'legal'])).byGate.legal;
    expect(legal).toMatchObject({
      verdict: 'pass',
      reason:
        '3 installed packages, all under licences the product may ship; 1 ask for their notice to be kept',
    });
    expect(legal?.evidence.outputExcerpt).toBe(
      'notice required: either@1.0.0 ((GPL-3.0-only OR Apache-2.0)), NOTICE file present',
    );

    using copyleft = new TempWorkspace('loki-verify-');
    project(
      copyleft,
      {},
      {
        ...installed('left-pad', 'MIT'),
        ...installed('strong', 'AGPL-3.0-or-later'),
        ...installed('both', 'MIT AND GPL-2.0-only'),
        'node_modules/left-pad/node_modules/unlabelled/package.json': JSON.stringify({
          name: 'unlabelled',
          version: '0.1.0',
        }),
      },
    );
    expect((await verify(copyleft, ['--gate', 'legal'])).byGate.legal).toMatchObject({
      verdict: 'fail',
      reason:
        '3 of 4 installed packages are under a licence the product may not ship as it is: both@1.0.0 (MIT AND GPL-2.0-only), strong@1.0.0 (AGPL-3.0-or-later), unlabelled@0.1.0 (no licence)',
    });

    using notInstalled = new TempWorkspace('loki-verify-');
    writeFileSync(
      join(notInstalled.root, 'package.json'),
      JSON.stringify({ dependencies: { 'left-pad': '^1.0.0' } }),
    );
    expect((await verify(notInstalled, ['--gate', 'legal'])).byGate.legal).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/not installed \(npm install\)/),
    });
  });

  it('runs integration and end-to-end suites by their script names, judged like the unit tests', async () => {
    using workspace = new TempWorkspace('loki-verify-');
    project(
      workspace,
      {
        'test:integration': 'node --test "integration/*.test.mjs"',
        'test:e2e': 'node --test "e2e/*.test.mjs"',
      },
      { 'integration/api.test.mjs': PASSING, 'e2e/flow.test.mjs': FAILING },
    );
    const { byGate } = await verify(workspace, ['--gate', 'integration-tests', 'e2e-tests']);
    expect(byGate['integration-tests']).toMatchObject({
      verdict: 'pass',
      reason: '1 passed, 0 failed (node:test)',
      evidence: { command: 'npm run test:integration' },
    });
    expect(byGate['e2e-tests']).toMatchObject({ verdict: 'fail', evidence: { command: 'npm run test:e2e' } });

    using none = new TempWorkspace('loki-verify-');
    project(none, { test: 'node --test' }, {});
    expect((await verify(none, ['--gate', 'e2e-tests'])).byGate['e2e-tests']).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/^no end-to-end test script/),
    });
  });

  it('runs the lint and type-check gates when the project has them', async () => {
    using workspace = new TempWorkspace('loki-verify-');
    project(
      workspace,
      { test: 'node --test', lint: 'node lint.mjs', typecheck: 'node types.mjs' },
      {
        'math.test.mjs': PASSING,
        'lint.mjs': "console.log('no problems');\n",
        'types.mjs': "console.error('src/index.ts(1,7): error TS2322'); process.exit(2);\n",
      },
    );
    const { exitCode, outcome, byGate } = await verify(workspace);
    expect(exitCode).toBe(3);
    expect(outcome.headline).toBe('NOT VERIFIED');
    expect(byGate.lint).toMatchObject({
      verdict: 'pass',
      evidence: { command: 'npm run lint', exitCode: 0 },
    });
    expect(byGate.types).toMatchObject({
      verdict: 'fail',
      reason: 'the type checker reported errors (exit 2)',
    });
    expect(byGate.types?.evidence.outputExcerpt).toContain('error TS2322');

    using typescriptMissing = new TempWorkspace('loki-verify-');
    project(typescriptMissing, {}, { 'tsconfig.json': '{}' });
    expect((await verify(typescriptMissing, ['--gate', 'types'])).byGate.types).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/TypeScript is not installed/),
    });
  });

  it('refuses an unknown gate with the list of gates, and prints verdicts as they come without --json', async () => {
    using workspace = new TempWorkspace('loki-verify-');
    project(workspace, { test: 'node --test' }, { 'math.test.mjs': PASSING });
    const unknown = await loki(workspace, ['verify', '--gate', 'coverage-of-everything']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown gate "coverage-of-everything"; the gates are unit-tests, coverage, integration-tests, e2e-tests, lint, types, security, audit, legal/,
    );

    const text = await loki(workspace, ['verify', '--gate', 'unit-tests']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(
      /^✓ unit-tests: pass — 1 passed, 0 failed \(node:test\)\nVERIFIED — evidence: /,
    );
  });
});
