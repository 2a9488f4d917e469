import type { GateThresholdSettings } from '../config/index.ts';
import { describeCounts, type GateResult, type GateVerdict, runGates } from '../gates/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import { npmTestScript } from './npm-test-script.ts';

/** Commits whose verdicts are remembered: main's recent tips are all that is ever asked about. */
const REMEMBERED_COMMITS = 64;
const EVIDENCE_CHARACTERS = 3_000;

/** Which quality gates judge every merge result (from `.loki/config/gates.yaml`). */
export interface StageGateSettings {
  gates: readonly string[];
  nonBlocking: readonly string[];
  thresholds: GateThresholdSettings;
}

/** A gate's verdict on a commit, as the merge queue's ratchet remembers it. */
export class GateVerdictLedger {
  readonly #verdicts = new Map<string, Map<string, GateVerdict>>();

  record(commit: string, gate: string, verdict: GateVerdict): void {
    let verdicts = this.#verdicts.get(commit);
    if (verdicts === undefined) {
      verdicts = new Map();
      this.#verdicts.set(commit, verdicts);
      const oldest = this.#verdicts.keys().next().value;
      if (this.#verdicts.size > REMEMBERED_COMMITS && oldest !== undefined) this.#verdicts.delete(oldest);
    }
    verdicts.set(gate, verdict);
  }

  verdictOn(commit: string, gate: string): GateVerdict | undefined {
    return this.#verdicts.get(commit)?.get(gate);
  }
}

/**
 * Commands known to exit 0 on a commit in this queue's worktree, so that the verification that
 * follows the gates does not run the same command (often the project's tests) twice.
 */
export class ProvenCommands {
  readonly #byCommit = new Map<string, Set<string>>();

  add(commit: string, command: string): void {
    let commands = this.#byCommit.get(commit);
    if (commands === undefined) {
      commands = new Set();
      this.#byCommit.set(commit, commands);
      const oldest = this.#byCommit.keys().next().value;
      if (this.#byCommit.size > REMEMBERED_COMMITS && oldest !== undefined) this.#byCommit.delete(oldest);
    }
    commands.add(command);
  }

  has(commit: string, command: string): boolean {
    return this.#byCommit.get(commit)?.has(command) === true;
  }
}

export interface MergeGateCheckOptions {
  settings: StageGateSettings;
  candidate: string;
  base: string;
  /** The integration worktree, with `candidate` checked out (and left checked out afterwards). */
  directory: string;
  checkOut(commit: string): Promise<void>;
  /** The files the merge adds or changes (relative): the secret scan judges only these. */
  changedFiles: readonly string[];
  runner: CommandRunner;
  env: Readonly<Record<string, string>>;
  timeoutMilliseconds: number;
  verdicts: GateVerdictLedger;
  proven: ProvenCommands;
  now: () => number;
  /** Every verdict on the candidate, and whether it holds the merge back. */
  onResult(result: GateResult, blocks: boolean): void;
  signal?: AbortSignal;
}

export type MergeGateOutcome =
  | { passed: true }
  | { passed: false; result: GateResult; command: string; exitCode: number | null; outputTail: string };

/** Gates that judge the merge's own files, not the whole tree: their verdicts are not the commit's. */
const FILE_SCOPED_GATES = new Set(['security']);

/**
 * The quality gates on a merge result, held to the merge queue's ratchet: a gate that fails on the
 * candidate refuses the merge only when it passes on `base` (main) and blocks by configuration;
 * a gate main already fails, and a not-proven verdict, never block. `base` is asked only when its
 * verdict is not remembered, and only for the gates that failed.
 */
export async function checkMergeGates(options: MergeGateCheckOptions): Promise<MergeGateOutcome> {
  const { settings, candidate } = options;
  if (settings.gates.length === 0) return { passed: true };
  const run = await runGates(gateContext(options, candidate), settings.gates);
  proveNpmTestScript(options, run.results);
  let blocked: GateResult | undefined;
  for (const result of run.results) {
    const blocks =
      result.verdict === 'fail' &&
      !settings.nonBlocking.includes(result.gate) &&
      (await verdictOnBase(options, result.gate)) === 'pass';
    if (blocks) blocked ??= result;
    if (!FILE_SCOPED_GATES.has(result.gate)) options.verdicts.record(candidate, result.gate, result.verdict);
    options.onResult(result, blocks);
  }
  if (blocked === undefined) return { passed: true };
  const { evidence } = blocked;
  return {
    passed: false,
    result: blocked,
    command: evidence.command ?? `the ${blocked.gate} gate`,
    exitCode: evidence.exitCode,
    outputTail: describeBlockingGate(blocked),
  };
}

/** A passing `npm test` proves its script's own text too (see npmTestScript). */
function proveNpmTestScript(options: MergeGateCheckOptions, results: readonly GateResult[]): void {
  const tests = results.find((result) => result.gate === 'unit-tests');
  if (tests?.evidence.command !== 'npm test' || !options.proven.has(options.candidate, 'npm test')) return;
  const script = npmTestScript(options.directory);
  if (script !== null) options.proven.add(options.candidate, script);
}

/** What base (main) says of a gate: remembered, or run there once (then the candidate again). */
async function verdictOnBase(options: MergeGateCheckOptions, gate: string): Promise<GateVerdict> {
  const isFileScoped = FILE_SCOPED_GATES.has(gate);
  const known = isFileScoped ? undefined : options.verdicts.verdictOn(options.base, gate);
  if (known !== undefined) return known;
  await options.checkOut(options.base);
  try {
    const run = await runGates(gateContext(options, options.base), [gate]);
    const verdict = run.results[0]?.verdict ?? 'not-proven';
    if (!isFileScoped) options.verdicts.record(options.base, gate, verdict);
    return verdict;
  } finally {
    await options.checkOut(options.candidate);
  }
}

function gateContext(options: MergeGateCheckOptions, commit: string) {
  return {
    projectDirectory: options.directory,
    runner: provingRunner(options.runner, options.proven, commit),
    env: options.env,
    timeoutMilliseconds: options.timeoutMilliseconds,
    thresholds: options.settings.thresholds,
    onlyFiles: options.changedFiles,
    now: options.now,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}

/** The runner the gates use, noting each command that exits 0 as proven on `commit`. */
function provingRunner(inner: CommandRunner, proven: ProvenCommands, commit: string): CommandRunner {
  return {
    kind: inner.kind,
    run: async (request) => {
      const result = await inner.run(request);
      if (result.exitCode === 0 && !result.timedOut) proven.add(commit, request.command);
      return result;
    },
  };
}

/** The evidence an agent needs to fix what the gate saw: its reason, counts and output. */
export function describeBlockingGate(result: GateResult): string {
  const { evidence } = result;
  return [
    `The ${result.gate} gate failed on the merge result, and it passes on main: ${result.reason}`,
    ...(evidence.command === null ? [] : [`command: ${evidence.command} (exit ${evidence.exitCode ?? '?'})`]),
    ...(evidence.counts === null ? [] : [`tests: ${describeCounts(evidence.counts)}`]),
    ...(evidence.files.length === 0 ? [] : [`files: ${evidence.files.join(', ')}`]),
    evidence.outputExcerpt.slice(-EVIDENCE_CHARACTERS),
  ].join('\n');
}
