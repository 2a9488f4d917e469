import { type CommandResult } from '../sandbox/index.ts';
import type { Gate, GateContext, GateRecord, GateResult } from './gate.ts';
import { parseTestCounts, type TestCounts } from './parse-test-counts.ts';
import { parseTestResults, type TestResult } from './parse-test-results.ts';
import {
  findLintCommand,
  findScriptCommand,
  findTestCommand,
  findTypeCheckCommand,
  type ProjectCommand,
} from './project-commands.ts';

/** The end of a command's output is where runners put their summaries and the errors. */
export const EXCERPT_CHARACTERS = 4_000;
/** `sh: 1: vitest: not found` and the like: the shell could not find the program. */
const COMMAND_NOT_FOUND = 127;

/** Unit tests: the project's test command, judged by the runner's own counts. */
export const unitTestGate: Gate = {
  name: 'unit-tests',
  description: "the project's tests pass, and at least one test ran",
  run: (context) =>
    runCommandGate(context, 'unit-tests', findTestCommand(context.projectDirectory), {
      missing:
        'no test command found (no scripts.test in package.json, no pytest files, no go.mod): a project with no tests never passes',
      judge: judgeTests,
    }),
};

const INTEGRATION_SCRIPTS = ['test:integration', 'integration', 'test:int'] as const;
const END_TO_END_SCRIPTS = ['test:e2e', 'e2e', 'test:end-to-end'] as const;

/** Integration tests: the project's integration script, judged like the unit tests. */
export const integrationTestGate: Gate = {
  name: 'integration-tests',
  description: "the project's integration tests pass, and at least one ran",
  run: (context) =>
    runCommandGate(
      context,
      'integration-tests',
      findScriptCommand(context.projectDirectory, INTEGRATION_SCRIPTS),
      {
        missing: `no integration test script (${INTEGRATION_SCRIPTS.map((name) => `scripts["${name}"]`).join(', ')} in package.json)`,
        judge: judgeTests,
      },
    ),
};

/** End-to-end tests: the project's e2e script, judged like the unit tests. */
export const endToEndTestGate: Gate = {
  name: 'e2e-tests',
  description: "the project's end-to-end tests pass, and at least one ran",
  run: (context) =>
    runCommandGate(context, 'e2e-tests', findScriptCommand(context.projectDirectory, END_TO_END_SCRIPTS), {
      missing: `no end-to-end test script (${END_TO_END_SCRIPTS.map((name) => `scripts["${name}"]`).join(', ')} in package.json)`,
      judge: judgeTests,
    }),
};

/** Lint: the project's linter, pass when it exits 0. */
export const lintGate: Gate = {
  name: 'lint',
  description: "the project's linter reports no error",
  run: (context) =>
    runCommandGate(context, 'lint', findLintCommand(context.projectDirectory), {
      missing:
        'no linter configured (no scripts.lint in package.json, no installed ESLint with a config, no go.mod)',
      judge: (result) => judgeExit(result, 'the linter reported no error', 'the linter reported errors'),
    }),
};

/** Types: the project's type check, pass when it exits 0. */
export const typeCheckGate: Gate = {
  name: 'types',
  description: 'the type checker reports no error',
  run: (context) => {
    const found = findTypeCheckCommand(context.projectDirectory);
    if (found === 'typescript-missing') {
      return Promise.resolve(
        notRun(
          'types',
          'tsconfig.json is there but TypeScript is not installed in node_modules (npm install)',
          ['tsconfig.json'],
        ),
      );
    }
    return runCommandGate(context, 'types', found, {
      missing: 'not applicable: no tsconfig.json and no scripts.typecheck in package.json',
      judge: (result) => judgeExit(result, 'no type errors', 'the type checker reported errors'),
    });
  },
};

export type Judgement = Pick<GateResult, 'verdict' | 'reason'> & {
  counts?: TestCounts | null;
  testResults?: TestResult[];
};

export async function runCommandGate(
  context: GateContext,
  gate: string,
  found: ProjectCommand | null,
  options: {
    missing: string;
    judge: (result: CommandResult, output: string) => Judgement;
    /** Through the sandbox's network policy (`registries` lets package registries through). */
    needsNetwork?: boolean;
  },
): Promise<GateRecord> {
  if (found === null) return notRun(gate, options.missing, []);
  const result = await context.runner.run({
    command: found.command,
    cwd: context.projectDirectory,
    writableDirectory: context.projectDirectory,
    timeoutMilliseconds: context.timeoutMilliseconds,
    env: context.env,
    allowNetwork: options.needsNetwork === true,
    maxOutputBytes: 2_000_000,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
  });
  const output = `${result.stdout}\n${result.stderr}`.trim();
  const judgement = judgeRun(result, output, found, options.judge);
  return {
    output,
    result: {
      gate,
      verdict: judgement.verdict,
      reason: judgement.reason,
      evidence: {
        command: found.command,
        exitCode: result.exitCode,
        durationMilliseconds: Math.round(result.durationMilliseconds),
        counts: judgement.counts ?? null,
        outputExcerpt: output.slice(-EXCERPT_CHARACTERS),
        files: [found.foundIn],
        ...(judgement.testResults === undefined ? {} : { testResults: judgement.testResults }),
      },
    },
  };
}

function judgeRun(
  result: CommandResult,
  output: string,
  found: ProjectCommand,
  judge: (result: CommandResult, output: string) => Judgement,
): Judgement {
  if (result.timedOut) return { verdict: 'fail', reason: `\`${found.command}\` did not finish in time` };
  if (result.exitCode === COMMAND_NOT_FOUND) {
    const line = output.split('\n').find((candidate) => /not found/i.test(candidate)) ?? '';
    return {
      verdict: 'not-proven',
      reason: `tool missing: \`${found.command}\` could not start (${line.trim()})`,
    };
  }
  return judge(result, output);
}

function judgeExit(result: CommandResult, passed: string, failed: string): Judgement {
  return result.exitCode === 0
    ? { verdict: 'pass', reason: passed }
    : { verdict: 'fail', reason: `${failed} (exit ${result.exitCode ?? result.signal ?? '?'})` };
}

/** Exit 0 is not enough: the runner must say tests ran, and none failed. */
function judgeTests(result: CommandResult, output: string): Judgement {
  return { ...judgeTestCounts(result, output), testResults: parseTestResults(output) };
}

function judgeTestCounts(result: CommandResult, output: string): Judgement {
  const counts = parseTestCounts(output);
  if (result.exitCode !== 0) {
    const failed = counts === null ? '' : `: ${describeCounts(counts)}`;
    return {
      verdict: 'fail',
      reason: `the tests failed (exit ${result.exitCode ?? result.signal ?? '?'})${failed}`,
      counts,
    };
  }
  if (counts === null) {
    return {
      verdict: 'not-proven',
      reason:
        'the test command exited 0 but printed no summary of a known runner (node:test, Vitest, Jest, pytest, go test -v): nothing shows that tests ran',
      counts,
    };
  }
  if (counts.failed > 0)
    return { verdict: 'fail', reason: `tests failed: ${describeCounts(counts)}`, counts };
  if (counts.passed === 0)
    return { verdict: 'fail', reason: `zero tests executed: ${describeCounts(counts)}`, counts };
  return { verdict: 'pass', reason: describeCounts(counts), counts };
}

export function describeCounts(counts: TestCounts): string {
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  return `${counts.passed} passed, ${counts.failed} failed${skipped} (${counts.framework})`;
}

/** A gate that had nothing to run: not proven, with the reason. */
export function notRun(gate: string, reason: string, files: string[]): GateRecord {
  return {
    output: '',
    result: {
      gate,
      verdict: 'not-proven',
      reason,
      evidence: {
        command: null,
        exitCode: null,
        durationMilliseconds: 0,
        counts: null,
        outputExcerpt: '',
        files,
      },
    },
  };
}
