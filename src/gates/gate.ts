import type { GateThresholdSettings } from '../config/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import type { TestCounts } from './parse-test-counts.ts';
import type { TestResult } from './parse-test-results.ts';

/**
 * A gate's judgement. `not-proven` is neither: the gate could not decide (not applicable to this
 * project, its tool missing, offline), and says why; it never counts as a pass.
 */
export type GateVerdict = 'pass' | 'fail' | 'not-proven';

/** What the harness itself saw, kept so that a person can check the verdict. */
export interface GateEvidence {
  /** The command the gate ran; null when it ran none (nothing to run it on). */
  command: string | null;
  exitCode: number | null;
  durationMilliseconds: number;
  /** The test runner's own counts, for gates that run tests. */
  counts: TestCounts | null;
  /** The end of the command's output (redacted), where runners put their summaries and errors. */
  outputExcerpt: string;
  /** Files the verdict rests on (configuration found, reports read). */
  files: string[];
  /** Measurements the verdict rests on, one row each (a route's latencies, an axe violation). */
  table?: EvidenceTable;
  /** Each test the runner named (test gates only; requirement traceability reads the names). */
  testResults?: TestResult[];
}

export interface EvidenceTable {
  columns: string[];
  rows: (string | number)[][];
}

export interface GateResult {
  gate: string;
  verdict: GateVerdict;
  /** One sentence: why this verdict ("12 tests passed", "no test command found: …"). */
  reason: string;
  evidence: GateEvidence;
}

/** Where and how a gate runs: a project directory, through the sandbox. */
export interface GateContext {
  projectDirectory: string;
  runner: CommandRunner;
  /** The complete environment of the commands (see buildSandboxEnvironment). */
  env: Readonly<Record<string, string>>;
  timeoutMilliseconds: number;
  signal?: AbortSignal;
  /** What the gates before this one in the same run saw (the coverage gate reads the test run). */
  earlier: readonly GateRecord[];
  /** When this run of the gates began (epoch ms): files older than it are not this run's evidence. */
  startedAt: number;
  /** Thresholds from `.loki/config/gates.yaml`; a gate uses its own default for any not set. */
  thresholds?: GateThresholdSettings;
  /**
   * When set, gates that judge files one by one (the secret scan) look only at these (relative
   * paths): a merge is judged on the files it changes.
   */
  onlyFiles?: readonly string[];
}

/** A finished gate with its whole (redacted, bounded) output, for the gates after it. */
export interface GateRecord {
  result: GateResult;
  output: string;
}

export interface Gate {
  /** Stable, kebab-case: `unit-tests`, `lint`, `types`. */
  name: string;
  description: string;
  run(context: GateContext): Promise<GateRecord>;
}
