import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonOrNull } from '../text/index.ts';
import { notRun } from './command-gates.ts';
import type { Gate, GateContext, GateRecord } from './gate.ts';

/** Lines covered, in percent, below which the gate fails (the design's default). */
export const DEFAULT_MINIMUM_LINE_COVERAGE = 80;

/** Where a coverage figure came from, and the figure. */
interface CoverageReading {
  linePercent: number;
  source: string;
}

/**
 * Coverage: the share of lines the project's own tests ran, in this run of the gates, at least 80 %.
 * Measured by the project's tooling, read from what it wrote: istanbul's json-summary (Vitest, Jest,
 * c8, nyc), lcov.info, a Cobertura XML (pytest-cov, and most other languages' tools), or the
 * coverage table of the test run's own output (node:test's --experimental-test-coverage, istanbul's
 * text reporter). A report file older than this run is not evidence of it.
 */
export const coverageGate: Gate = {
  name: 'coverage',
  description: `the tests run at least ${DEFAULT_MINIMUM_LINE_COVERAGE} % of the lines`,
  run: (context) => Promise.resolve(judgeCoverage(context)),
};

function judgeCoverage(context: GateContext): GateRecord {
  const tests = context.earlier.find((record) => record.result.gate === 'unit-tests');
  if (tests === undefined) {
    return notRun(
      'coverage',
      'coverage is read from the tests of the same run: run it with the unit-tests gate',
      [],
    );
  }
  if (tests.result.evidence.command === null) {
    return notRun('coverage', 'no tests ran (see the unit-tests gate), so nothing measured coverage', []);
  }
  const reading =
    readReportFiles(context.projectDirectory, context.startedAt) ?? readOutputTable(tests.output);
  if (reading === null) {
    return notRun(
      'coverage',
      'the test run measured no coverage: no fresh coverage/coverage-summary.json, coverage/lcov.info or ' +
        'coverage.xml, and no coverage table in its output (run the tests with coverage, e.g. ' +
        '`node --test --experimental-test-coverage`, `vitest run --coverage`, `pytest --cov --cov-report=xml`)',
      [],
    );
  }
  const percent = Math.round(reading.linePercent * 100) / 100;
  const minimum = context.thresholds?.minimumLineCoverage ?? DEFAULT_MINIMUM_LINE_COVERAGE;
  const passed = percent >= minimum;
  return {
    output: '',
    result: {
      gate: 'coverage',
      verdict: passed ? 'pass' : 'fail',
      reason: `${percent} % of lines covered (${passed ? 'at least' : 'below'} ${minimum} %), from ${reading.source}`,
      evidence: {
        command: tests.result.evidence.command,
        exitCode: tests.result.evidence.exitCode,
        durationMilliseconds: 0,
        counts: null,
        outputExcerpt: '',
        files: [reading.source],
      },
    },
  };
}

const istanbulSummarySchema = z.looseObject({
  total: z.looseObject({ lines: z.looseObject({ pct: z.union([z.number(), z.literal('Unknown')]) }) }),
});

/** The first report file written during this run, in the order tools most often write them. */
function readReportFiles(directory: string, startedAt: number): CoverageReading | null {
  const candidates: { path: string; read: (text: string) => number | null }[] = [
    { path: 'coverage/coverage-summary.json', read: readIstanbulSummary },
    { path: 'coverage/lcov.info', read: readLcov },
    { path: 'coverage.xml', read: readCobertura },
    { path: 'coverage/cobertura-coverage.xml', read: readCobertura },
  ];
  for (const candidate of candidates) {
    const path = join(directory, candidate.path);
    if (!existsSync(path) || statSync(path).mtimeMs < startedAt) continue;
    const linePercent = candidate.read(readFileSync(path, 'utf8'));
    if (linePercent !== null) return { linePercent, source: candidate.path };
  }
  return null;
}

function readIstanbulSummary(text: string): number | null {
  const parsed = istanbulSummarySchema.safeParse(parseJsonOrNull(text));
  if (!parsed.success) return null;
  const percent = parsed.data.total.lines.pct;
  return typeof percent === 'number' ? percent : null;
}

/** lcov: `LF:` lines found and `LH:` lines hit, per source file. */
function readLcov(text: string): number | null {
  let found = 0;
  let hit = 0;
  for (const match of text.matchAll(/^L([FH]):(\d+)\s*$/gm)) {
    if (match[1] === 'F') found += Number(match[2]);
    else hit += Number(match[2]);
  }
  return found === 0 ? null : (hit / found) * 100;
}

/** Cobertura: the root element's `line-rate`, a fraction. */
function readCobertura(text: string): number | null {
  const match = /<coverage\b[^>]*\bline-rate="([\d.]+)"/.exec(text);
  return match === null ? null : Number(match[1]) * 100;
}

/**
 * node:test's table (`ℹ all files |  60.00 |  66.67 | 100.00 |`, lines first) or istanbul's text
 * reporter (`All files |  60 |  66.67 |  100 |  60 |`, lines last of the four).
 */
function readOutputTable(output: string): CoverageReading | null {
  const node = /^(?:ℹ|#) all files\s*\|\s*([\d.]+)\s*\|/m.exec(output);
  if (node !== null) return { linePercent: Number(node[1]), source: 'the coverage table of the test output' };
  const istanbul = /^\s*All files\s*\|\s*[\d.]+\s*\|\s*[\d.]+\s*\|\s*[\d.]+\s*\|\s*([\d.]+)\s*\|/m.exec(
    output,
  );
  if (istanbul !== null) {
    return { linePercent: Number(istanbul[1]), source: 'the coverage table of the test output' };
  }
  return null;
}
