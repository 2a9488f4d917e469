import type { DeliveryPhase } from '../planning/index.ts';
import type { Workspace } from '../workspace/index.ts';
import type { SchedulerResult } from './scheduler.ts';
import type { MainVerification } from './verify-main.ts';

export const DEFAULT_MAIN_FIX_ROUNDS = 2;
const EVIDENCE_CHARACTERS = 3_000;

export interface MainFixRoundsOptions {
  phase: Extract<DeliveryPhase, 'qa' | 'deployment'>;
  workspace: Workspace;
  runId: string;
  /** Fix rounds in this phase over the whole run (a resumed run counts the earlier ones). */
  maxRounds: number;
  maxTaskAttempts: number;
  /** The project's gates: what a fix task must pass, like main. */
  gates: readonly string[];
  /** The harness's verification of main as it is now. */
  verify: () => Promise<MainVerification>;
  /** Runs the queue until the run's open tasks (the fix task among them) are done. */
  runScheduler: () => Promise<SchedulerResult>;
}

export type MainFixOutcome =
  | { outcome: 'verified'; verification: MainVerification; rounds: number }
  /** Every round was used and main is still red. */
  | { outcome: 'red'; verification: MainVerification; rounds: number }
  /** A round's scheduler ended otherwise (stopped, budget, blocked, stalled): the pipeline says why. */
  | { outcome: 'interrupted'; result: Exclude<SchedulerResult, { outcome: 'done' }> };

/**
 * A red main found at QA (its gates) or Deployment (also its health check) becomes fix work instead
 * of ending the run: a fix task `<phase>-fix-<n>` with the failing output in its description, which
 * must pass the project's gates itself and goes through the normal queue and merge path; then main
 * is verified again. At most `maxRounds` rounds per phase; then the run ends not verified.
 */
export async function verifyMainWithFixRounds(options: MainFixRoundsOptions): Promise<MainFixOutcome> {
  const { workspace, phase } = options;
  let verification = await options.verify();
  const prefix = `${phase}-fix-`;
  const existing = new Set(
    (await workspace.queue.list())
      .filter((task) => task.runId === options.runId && task.id.startsWith(prefix))
      .map((task) => task.id),
  );
  let rounds = existing.size;
  while (!verification.passed && rounds < options.maxRounds) {
    rounds += 1;
    let id = `${prefix}${rounds}`;
    for (let next = rounds + 1; existing.has(id); next += 1) id = `${prefix}${next}`;
    existing.add(id);
    await workspace.queue.enqueue({
      id,
      type: 'eng-backend',
      title: `Make main pass its ${phase === 'qa' ? 'gates' : 'gates and health check'} again`,
      description: describeRedMain(verification),
      priority: 9,
      runId: options.runId,
      maxAttempts: options.maxTaskAttempts,
      payload: {
        verifyCommands: [...options.gates],
        acceptanceCriteria: ["every project gate passes on main's checkout"],
        requirementIds: [],
        touches: [],
        phase,
      },
    });
    const result = await options.runScheduler();
    if (result.outcome !== 'done') return { outcome: 'interrupted', result };
    verification = await options.verify();
  }
  return verification.passed
    ? { outcome: 'verified', verification, rounds }
    : { outcome: 'red', verification, rounds };
}

/** The fix task's description: what failed on main, with the output the harness saw. */
function describeRedMain(verification: MainVerification): string {
  const failures = verification.gates
    .filter((gate) => !gate.passed)
    .map(
      (gate) =>
        `Gate \`${gate.command}\` failed (exit ${gate.exitCode ?? '?'}) on main (${verification.commit}):\n${gate.outputTail.slice(-EVIDENCE_CHARACTERS)}`,
    );
  const health = verification.health;
  if (health !== null && !health.passed) {
    failures.push(
      `The health check failed: \`${health.startCommand}\` then GET ${health.healthPath} answered ${health.statusCode ?? 'nothing'}:\n${health.outputTail.slice(-EVIDENCE_CHARACTERS)}`,
    );
  }
  return [
    "The harness verified main on a fresh checkout and it is red. Find the cause in main's code and fix it; do not weaken or delete tests.",
    '',
    ...failures,
  ].join('\n');
}
