import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvidenceDocument, GateResult } from '../src/gates/index.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

/**
 * A tiny npm package in the shape of the small MIT libraries on npm (an index, a README, a licence,
 * its own node:test suite), not written for Loki: its test names carry no requirement IDs.
 */
function padStartPackage(workspace: TempWorkspace): void {
  const files: Record<string, string> = {
    'package.json': JSON.stringify(
      {
        name: 'pad-start-lite',
        version: '1.0.0',
        license: 'MIT',
        type: 'module',
        main: 'index.js',
        scripts: { test: 'node --test' },
      },
      null,
      2,
    ),
    'index.js': [
      '/** Pads `text` on the left with `fill` to `length` characters. */',
      "export default function padStart(text, length, fill = ' ') {",
      '  const value = String(text);',
      '  if (value.length >= length || fill === "") return value;',
      '  return fill.repeat(Math.ceil((length - value.length) / fill.length)).slice(0, length - value.length) + value;',
      '}',
    ].join('\n'),
    'test/pad-start.test.js': [
      "import assert from 'node:assert/strict';",
      "import { test } from 'node:test';",
      "import padStart from '../index.js';",
      "test('pads with spaces by default', () => assert.equal(padStart('a', 3), '  a'));",
      "test('pads with a given fill', () => assert.equal(padStart(7, 3, '0'), '007'));",
      "test('leaves a long enough text alone', () => assert.equal(padStart('abcd', 2), 'abcd'));",
    ].join('\n'),
    'README.md': '# pad-start-lite\n\nPads a string on the left.\n',
    LICENSE:
      'MIT License\n\nCopyright (c) the authors\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software.\n',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(workspace.root, path, '..'), { recursive: true });
    writeFileSync(join(workspace.root, path), `${content}\n`);
  }
}

async function verify(workspace: TempWorkspace, args: readonly string[] = []) {
  const result = await loki(workspace, ['verify', '--json', ...args]);
  const outcome = parseJsonOutput<{
    headline: string;
    results: GateResult[];
    evidence: EvidenceDocument;
    reportPaths: { json: string; markdown: string; html: string };
  }>(result);
  return {
    exitCode: result.exitCode,
    outcome,
    byGate: Object.fromEntries(outcome.results.map((entry) => [entry.gate, entry])),
  };
}

describe('loki verify --json on a small npm package not written for Loki', () => {
  it('passes its tests, says what it could not prove, and exits 3 with the gaps', async () => {
    using workspace = new TempWorkspace('loki-verify-evidence-');
    padStartPackage(workspace);
    const { exitCode, outcome, byGate } = await verify(workspace);
    expect(byGate['unit-tests']).toMatchObject({ verdict: 'pass', reason: '3 passed, 0 failed (node:test)' });
    expect(byGate['unit-tests']?.evidence.testResults?.map((test) => test.name)).toEqual([
      'pads with spaces by default',
      'pads with a given fill',
      'leaves a long enough text alone',
    ]);
    // No linter, no type checker, no coverage configured: not proven, never passed.
    expect(byGate['lint']?.verdict).toBe('not-proven');
    expect(byGate['types']?.verdict).toBe('not-proven');
    expect(outcome.results.some((result) => result.verdict === 'fail')).toBe(false);
    expect(outcome.headline).toBe('VERIFIED WITH GAPS');
    expect(exitCode).toBe(3);
    expect(outcome.evidence.prd).toBeNull();
    expect(outcome.evidence.notProven).toContain(`gate lint is not-proven: ${byGate['lint']?.reason}`);
    for (const path of Object.values(outcome.reportPaths)) expect(existsSync(path)).toBe(true);
    expect(readFileSync(outcome.reportPaths.html, 'utf8')).toContain('VERIFIED WITH GAPS');
  }, 300_000);

  it('traces Loki requirements here to the passing tests that name them', async () => {
    using workspace = new TempWorkspace('loki-verify-evidence-');
    padStartPackage(workspace);
    writeFileSync(
      join(workspace.root, 'test', 'requirements.test.js'),
      "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport padStart from '../index.js';\ntest('REQ-001 pads numbers with zeros', () => assert.equal(padStart(5, 2, '0'), '05'));\n",
    );
    mkdirSync(join(workspace.root, '.loki', 'specs'), { recursive: true });
    const requirement = (id: string, title: string) => ({
      id,
      title,
      description: title,
      acceptanceCriteria: [title],
      kind: 'functional',
      priority: 'must',
    });
    writeFileSync(
      join(workspace.root, '.loki', 'specs', 'requirements.json'),
      JSON.stringify({
        requirements: [requirement('REQ-001', 'Pad numbers'), requirement('REQ-002', 'Pad from the right')],
        assumptions: ['a library, no service'],
      }),
    );
    const { exitCode, outcome } = await verify(workspace, ['--gate', 'unit-tests']);
    expect(outcome.evidence.prd).toEqual({ proven: 1, total: 2, percent: 50 });
    expect(outcome.evidence.requirements.map((each) => [each.id, each.proven])).toEqual([
      ['REQ-001', true],
      ['REQ-002', false],
    ]);
    expect(outcome.evidence.notProven).toEqual([
      'REQ-002 (Pad from the right): no test names REQ-002; no gate covers it',
    ]);
    expect(outcome.headline).toBe('VERIFIED WITH GAPS');
    expect(exitCode).toBe(3);
  }, 300_000);
});
