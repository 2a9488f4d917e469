import { randomBytes } from 'node:crypto';
import type { CommandResult } from '../sandbox/index.ts';

/** What the merge queue needs of its integration worktree to verify a candidate checkpoint. */
export interface CandidateWorktree {
  /** Runs one shell command (sandboxed) on whatever is checked out. */
  run(command: string): Promise<CommandResult>;
  /** Checks `commit` out, with nothing a previous verification wrote left behind (ignored files stay). */
  checkOut(commit: string): Promise<void>;
}

export type CandidateVerdict =
  { passed: true } | { passed: false; command: string; exitCode: number | null; outputTail: string };

const OUTPUT_TAIL_CHARACTERS = 4_000;
/** Commits whose gate results are remembered: main's recent tips are all that is ever asked about. */
const REMEMBERED_COMMITS = 64;

/**
 * What the project's gates (the architecture's verifyCommands) said on recent commits: the merge
 * queue's ratchet. A merge onto main must pass every gate that main itself passes; a gate main
 * already fails (the product is not there yet: no tests written, no server) does not block a merge
 * that leaves it failing, so early work can land, but once a gate passes on main no merge may
 * make it fail again. Main therefore never gets worse, and is green once it has been.
 */
export class GateLedger {
  readonly #results = new Map<string, Map<string, boolean>>();

  record(commit: string, gate: string, passed: boolean): void {
    let results = this.#results.get(commit);
    if (results === undefined) {
      results = new Map();
      this.#results.set(commit, results);
      const oldest = this.#results.keys().next().value;
      if (this.#results.size > REMEMBERED_COMMITS && oldest !== undefined) this.#results.delete(oldest);
    }
    results.set(gate, passed);
  }

  /** true / false when known for this commit; undefined when it was never run there. */
  passedOn(commit: string, gate: string): boolean | undefined {
    return this.#results.get(commit)?.get(gate);
  }

  /** The gates a merge onto `base` must pass: all of them but those `base` is known to fail. */
  requiredOn(base: string, gates: readonly string[]): string[] {
    return gates.filter((gate) => this.passedOn(base, gate) !== false);
  }
}

/**
 * Verifies one candidate checkpoint (checked out in the worktree) that would become main on top of
 * `base`: the task's own commands and every gate `base` passes (or is not known to fail), in one
 * sandboxed shell; then the gates `base` fails, only to learn whether they still fail. When the
 * shell is red, the slow path names the failing command and holds a failing gate against the
 * candidate only when it passes on `base`. An abort is thrown, never reported as red.
 */
export async function verifyCandidate(options: CandidateOptions): Promise<CandidateVerdict> {
  const { ledger, candidate } = options;
  const needed = [...new Set([...options.taskCommands, ...ledger.requiredOn(options.base, options.gates)])];
  // Proven by the quality gates on this very commit (the tests they ran): not run again.
  const proven = needed.filter((command) => options.isProven?.(candidate, command) === true);
  for (const command of proven) if (options.gates.includes(command)) ledger.record(candidate, command, true);
  const required = needed.filter((command) => !proven.includes(command));
  if (required.length > 0) {
    const [only] = required;
    const result = await runChecked(
      options,
      only !== undefined && required.length === 1 ? only : joinedCommand(required),
    );
    if (!isPassing(result)) return await verifyOneByOne(options);
    for (const gate of required) if (options.gates.includes(gate)) ledger.record(candidate, gate, true);
  }
  const knownRed = options.gates.filter((command) => !needed.includes(command));
  for (const [gate, passed] of await probeGates(options, knownRed)) ledger.record(candidate, gate, passed);
  return { passed: true };
}

interface CandidateOptions {
  candidate: string;
  base: string;
  taskCommands: readonly string[];
  gates: readonly string[];
  ledger: GateLedger;
  worktree: CandidateWorktree;
  /** Whether a command is already known to pass on a commit (see ProvenCommands). */
  isProven?: (commit: string, command: string) => boolean;
  signal?: AbortSignal;
}

async function runChecked(options: { worktree: CandidateWorktree; signal?: AbortSignal }, command: string) {
  const result = await options.worktree.run(command);
  options.signal?.throwIfAborted();
  return result;
}

/**
 * The slow path of a red verification: the task's commands one by one (the first red one is the
 * verdict); then every gate on the candidate in one probe, the red ones not known on `base` probed
 * there, and the first red gate that `base` passes is run alone again for its output.
 */
async function verifyOneByOne(options: CandidateOptions): Promise<CandidateVerdict> {
  const { worktree, ledger, candidate, base } = options;
  await worktree.checkOut(candidate);
  for (const command of options.taskCommands) {
    const result = await runChecked(options, command);
    if (!isPassing(result)) return failure(command, result);
    if (options.gates.includes(command)) ledger.record(candidate, command, true);
  }
  const gates = options.gates.filter((command) => !options.taskCommands.includes(command));
  const onCandidate = await probeGates(options, gates);
  for (const [gate, passed] of onCandidate) ledger.record(candidate, gate, passed);
  const red = gates.filter((gate) => onCandidate.get(gate) === false);
  const unknownOnBase = red.filter((gate) => ledger.passedOn(base, gate) === undefined);
  if (unknownOnBase.length > 0) {
    await worktree.checkOut(base);
    for (const [gate, passed] of await probeGates(options, unknownOnBase)) ledger.record(base, gate, passed);
    await worktree.checkOut(candidate);
  }
  // Red on the candidate, green on main: this merge would break it.
  const broken = red.find((gate) => ledger.passedOn(base, gate) === true);
  if (broken === undefined) return { passed: true };
  return failure(broken, await runChecked(options, broken));
}

/**
 * Whether each gate passes on what is checked out, in one sandboxed shell: each gate runs in its own
 * subshell, its output discarded, and its exit status is printed after a marker only this run knows,
 * so no gate can forge another's result. A gate with no status (the shell was killed) failed.
 */
async function probeGates(
  options: { worktree: CandidateWorktree; signal?: AbortSignal },
  gates: readonly string[],
): Promise<Map<string, boolean>> {
  const statuses = new Map<string, boolean>();
  if (gates.length === 0) return statuses;
  const marker = `LOKI_GATE_${randomBytes(8).toString('hex')}`;
  const script = gates
    .map((gate, index) => `( ${gate}\n) </dev/null >/dev/null 2>&1; echo "${marker} ${index} $?"`)
    .join('\n');
  const result = await runChecked(options, script);
  const exitCodes = new Map<number, number>();
  for (const line of result.stdout.split('\n')) {
    const [found, index, exitCode] = line.trim().split(' ');
    if (found === marker && index !== undefined && exitCode !== undefined) {
      exitCodes.set(Number(index), Number(exitCode));
    }
  }
  gates.forEach((gate, index) => statuses.set(gate, exitCodes.get(index) === 0));
  return statuses;
}

/** A checkpoint of a batch (made on top of the previous one) and its task's own verify commands. */
export interface BatchCandidate {
  checkpoint: string;
  verifyCommands: readonly string[];
}

/**
 * How many candidates of a batch, from the first, verify green on top of `base`: all of them when
 * the last checkpoint (checked out now) is green. Otherwise a bisection over the checkpoints: the
 * first `good` are green, the first `bad` are red, until they are one apart; candidate `good` is then
 * the first that turns the batch red. log2(n) verifications instead of one per candidate.
 */
export async function greenPrefixLength(options: {
  candidates: readonly BatchCandidate[];
  base: string;
  gates: readonly string[];
  ledger: GateLedger;
  worktree: CandidateWorktree;
  isProven?: (commit: string, command: string) => boolean;
  signal?: AbortSignal;
}): Promise<number> {
  const { candidates } = options;
  if (await isPrefixGreen(options, candidates.length)) {
    // What the gates main already fails say on the new tip, so the ratchet stays exact.
    const tip = candidates.at(-1)?.checkpoint;
    const required = options.ledger.requiredOn(options.base, options.gates);
    const knownRed = options.gates.filter((command) => !required.includes(command));
    for (const [gate, passed] of await probeGates(options, knownRed)) {
      if (tip !== undefined) options.ledger.record(tip, gate, passed);
    }
    return candidates.length;
  }
  let good = 0;
  let bad = candidates.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    await options.worktree.checkOut(candidates[middle - 1]?.checkpoint ?? options.base);
    if (await isPrefixGreen(options, middle)) good = middle;
    else bad = middle;
  }
  return good;
}

/**
 * Whether the checkpoint of the first `count` candidates (checked out) passes their verify commands
 * and the gates `base` passes, all in one sandboxed shell (one sandbox start, not one per command).
 */
async function isPrefixGreen(
  options: Parameters<typeof greenPrefixLength>[0],
  count: number,
): Promise<boolean> {
  const prefix = options.candidates.slice(0, count);
  const gates = options.ledger.requiredOn(options.base, options.gates);
  const checkpoint = prefix.at(-1)?.checkpoint;
  const commands = [
    ...new Set([...prefix.flatMap((candidate) => candidate.verifyCommands), ...gates]),
  ].filter((command) => checkpoint === undefined || options.isProven?.(checkpoint, command) !== true);
  if (commands.length === 0) {
    if (checkpoint !== undefined) for (const gate of gates) options.ledger.record(checkpoint, gate, true);
    return true;
  }
  const result = await options.worktree.run(joinedCommand(commands));
  options.signal?.throwIfAborted();
  const passed = isPassing(result);
  if (passed && checkpoint !== undefined)
    for (const gate of gates) options.ledger.record(checkpoint, gate, true);
  return passed;
}

/**
 * One shell for several commands (one sandbox start): every command in order, stopping at the
 * first failure. For batches, where which command failed is found afterwards.
 */
export function joinedCommand(commands: readonly string[]): string {
  // Each in a subshell on its own lines, so a command ending in a comment cannot swallow the rest.
  return commands.map((command) => `( ${command}\n)`).join(' && ');
}

export function isPassing(result: CommandResult): boolean {
  return result.exitCode === 0 && !result.timedOut;
}

function failure(command: string, result: CommandResult): CandidateVerdict {
  const timeoutNote = result.timedOut ? '\n[timed out]' : '';
  return {
    passed: false,
    command,
    exitCode: result.exitCode,
    outputTail: tail(`${result.stdout}\n${result.stderr}`.trim() + timeoutNote),
  };
}

function tail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARACTERS ? text : `…${text.slice(-OUTPUT_TAIL_CHARACTERS)}`;
}
