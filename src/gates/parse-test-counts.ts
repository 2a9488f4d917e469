export type TestFramework = 'node:test' | 'vitest' | 'jest' | 'pytest' | 'go' | 'mocha';

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  framework: TestFramework;
}

/** A summary found in the output, and the line it ends on: the last one wins. */
interface FoundSummary extends TestCounts {
  lineIndex: number;
}

// Colours (CSI sequences) and carriage returns from progress output.
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
/** Lines of one multi-line summary (node:test, Mocha) are at most this far apart. */
const SUMMARY_BLOCK_LINES = 10;

/**
 * Reads the real test counts from a test run's output, for the completion evidence: node:test
 * (TAP and spec reporters), Vitest, Jest, pytest, `go test -v` and Mocha. When the output holds
 * several summaries (one per package, or a rerun), the last one is used. Null when none is found:
 * the caller must then say the counts are unknown, never guess them.
 *
 * Mapping: cancelled (node:test), errors (pytest) count as failed; todo, pending and xfailed count
 * as skipped; xpassed counts as passed. Go prints per-test lines only with `-v`; without them a Go
 * run is recognised from its package lines but counts 0 tests.
 *
 * One pass over the lines, a few lines per framework (past our usual function length on purpose):
 * node:test and mocha summaries span several lines, so their open block is state of the pass.
 */
export function parseTestCounts(output: string): TestCounts | null {
  const lines = output.replace(ANSI_ESCAPE, '').split(/\r?\n|\r/);
  const summaries: FoundSummary[] = [];
  let nodeBlock: FoundSummary | null = null;
  let mochaBlock: FoundSummary | null = null;
  const go = { passed: 0, failed: 0, skipped: 0, lastPackageLine: -1 };

  for (const [lineIndex, rawLine] of lines.entries()) {
    const line = rawLine.trimEnd();

    const nodeLine = /^(?:#|ℹ) (pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line.trimStart());
    if (nodeLine !== null) {
      const [, name, countText] = nodeLine;
      const count = Number(countText);
      if (name === 'pass') {
        nodeBlock = { passed: count, failed: 0, skipped: 0, framework: 'node:test', lineIndex };
        summaries.push(nodeBlock);
      } else if (nodeBlock !== null && lineIndex - nodeBlock.lineIndex <= SUMMARY_BLOCK_LINES) {
        if (name === 'fail' || name === 'cancelled') nodeBlock.failed += count;
        else nodeBlock.skipped += count;
      }
      continue;
    }

    const vitest = /^\s*Tests\s+(.+?)\s+\((\d+)\)$/.exec(line);
    if (vitest !== null) {
      const counts = countWords(vitest[1] ?? '', /\s*\|\s*/);
      if (counts !== null) summaries.push({ ...counts, framework: 'vitest', lineIndex });
      continue;
    }

    const jest = /^\s*Tests:\s+(.+?),\s+\d+ total$/.exec(line);
    if (jest !== null) {
      const counts = countWords(jest[1] ?? '', /,\s*/);
      if (counts !== null) summaries.push({ ...counts, framework: 'jest', lineIndex });
      continue;
    }

    const pytest = /^=*\s*(\d+ [a-z]+(?:, \d+ [a-z]+)*) in [\d.]+s(?: \([\d:]+\))?\s*=*$/.exec(line);
    if (pytest !== null) {
      const counts = countWords(pytest[1] ?? '', /,\s*/);
      if (counts !== null) summaries.push({ ...counts, framework: 'pytest', lineIndex });
      continue;
    }

    if (/^=*\s*no tests ran in [\d.]+s\b/.test(line)) {
      summaries.push({ passed: 0, failed: 0, skipped: 0, framework: 'pytest', lineIndex });
      continue;
    }

    const goTest = /^\s*--- (PASS|FAIL|SKIP): /.exec(line);
    if (goTest !== null) {
      if (goTest[1] === 'PASS') go.passed += 1;
      else if (goTest[1] === 'FAIL') go.failed += 1;
      else go.skipped += 1;
      continue;
    }
    if (/^(?:ok|FAIL)\s+\S+\s+(?:[\d.]+s|\(cached\)|\[[^\]]+\])/.test(line)) {
      go.lastPackageLine = lineIndex;
      continue;
    }

    const mocha = /^\s*(\d+) (passing|failing|pending)(?: \([^)]*\))?$/.exec(line);
    if (mocha !== null) {
      const count = Number(mocha[1]);
      if (mocha[2] === 'passing') {
        mochaBlock = { passed: count, failed: 0, skipped: 0, framework: 'mocha', lineIndex };
        summaries.push(mochaBlock);
      } else if (mochaBlock !== null && lineIndex - mochaBlock.lineIndex <= SUMMARY_BLOCK_LINES) {
        if (mocha[2] === 'failing') mochaBlock.failed = count;
        else mochaBlock.skipped = count;
      }
    }
  }

  if (go.lastPackageLine >= 0) {
    summaries.push({
      passed: go.passed,
      failed: go.failed,
      skipped: go.skipped,
      framework: 'go',
      lineIndex: go.lastPackageLine,
    });
  }
  const last = summaries.reduce<FoundSummary | null>(
    (latest, summary) => (latest === null || summary.lineIndex >= latest.lineIndex ? summary : latest),
    null,
  );
  if (last === null) return null;
  return { passed: last.passed, failed: last.failed, skipped: last.skipped, framework: last.framework };
}

const PASSED_WORDS = new Set(['passed', 'xpassed']);
const FAILED_WORDS = new Set(['failed', 'error', 'errors']);
const SKIPPED_WORDS = new Set(['skipped', 'todo', 'xfailed']);

/** `3 passed | 1 failed` or `1 failed, 3 passed`; null when no part names a test outcome. */
function countWords(text: string, separator: RegExp): Omit<TestCounts, 'framework'> | null {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  let isRecognised = false;
  for (const part of text.split(separator)) {
    const match = /^(\d+) ([a-z]+)$/.exec(part.trim());
    if (match === null) continue;
    const count = Number(match[1]);
    const word = match[2] ?? '';
    if (PASSED_WORDS.has(word)) counts.passed += count;
    else if (FAILED_WORDS.has(word)) counts.failed += count;
    else if (SKIPPED_WORDS.has(word)) counts.skipped += count;
    else continue;
    isRecognised = true;
  }
  return isRecognised ? counts : null;
}
