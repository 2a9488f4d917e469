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
 * `base`: the task's own commands first, then every project gate, one by one so the failing one is
 * named. A gate that fails is held against the candidate only when it passes on `base` (run there
 * once when not known yet). An abort is thrown, never reported as a red verification.
 */
export async function verifyCandidate(options: {
  candidate: string;
  base: string;
  taskCommands: readonly string[];
  gates: readonly string[];
  ledger: GateLedger;
  worktree: CandidateWorktree;
  signal?: AbortSignal;
}): Promise<CandidateVerdict> {
  const { worktree, ledger, candidate, base, signal } = options;
  const run = async (command: string) => {
    const result = await worktree.run(command);
    signal?.throwIfAborted();
    return result;
  };
  for (const command of options.taskCommands) {
    const result = await run(command);
    if (!isPassing(result)) return failure(command, result);
    if (options.gates.includes(command)) ledger.record(candidate, command, true);
  }
  let isCandidateCheckedOut = true;
  let verdict: CandidateVerdict = { passed: true };
  for (const gate of options.gates.filter((command) => !options.taskCommands.includes(command))) {
    if (!isCandidateCheckedOut) {
      await worktree.checkOut(candidate);
      isCandidateCheckedOut = true;
    }
    const result = await run(gate);
    const passed = isPassing(result);
    ledger.record(candidate, gate, passed);
    if (passed) continue;
    let passedOnBase = ledger.passedOn(base, gate);
    if (passedOnBase === undefined) {
      await worktree.checkOut(base);
      isCandidateCheckedOut = false;
      passedOnBase = isPassing(await run(gate));
      ledger.record(base, gate, passedOnBase);
    }
    if (passedOnBase) {
      verdict = failure(gate, result);
      break;
    }
  }
  if (!isCandidateCheckedOut) await worktree.checkOut(candidate);
  return verdict;
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
